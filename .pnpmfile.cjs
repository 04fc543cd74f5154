// A packed package (the SDK, the CLI) ships built: its devDependencies are the workspace's build
// inputs, unpublished @agentex/* packages among them, which no consumer installs or may resolve.
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.devDependencies;
      return pkg;
    },
  },
};
