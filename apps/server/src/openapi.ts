import { appRouter } from '@agentex/api';
import { generateOpenApiDocument } from 'trpc-to-openapi';

export function openApiDocument() {
  const doc = generateOpenApiDocument(appRouter, {
    title: 'Agent registry',
    description:
      'Agents are registered at build time (stable id, shareable before they run); deployments register their URLs; one deployment at a time is promoted to production. Wire-compatible with the Agentex REST API for agents and deployments.',
    version: '1.0.0',
    baseUrl: '/api',
    openApiVersion: '3.1.0',
  });
  return doc;
}
