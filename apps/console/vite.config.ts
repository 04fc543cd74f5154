import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served by the registry at /console: every asset is same-origin (the server's CSP allows nothing else).
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, assetsInlineLimit: 0 },
  server: { proxy: { "/trpc": "http://127.0.0.1:8000", "/api": "http://127.0.0.1:8000" } },
});
