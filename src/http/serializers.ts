import fastJson from 'fast-json-stringify';
import type { FastifyInstance } from 'fastify';

type Serializer = (data: unknown) => string;

/**
 * Compiled serializers by the schema they write, for every server of the process: the routes share few shapes
 * (every refusal is one Problem), and tests and embedding programs build many servers, so each shape is compiled
 * once rather than once per route and status of every server (60 routes, about 400 compilations, 0.4 s a server).
 */
const compiled = new Map<string, Serializer>();

/**
 * Answers are written by fast-json-stringify from the route's response schema (src/http/responses.ts), as
 * Fastify does by default, with the shared shapes of this instance as the references they name.
 */
export function registerSerializers(app: FastifyInstance): void {
  app.setSerializerCompiler(({ schema }) => {
    const key = JSON.stringify(schema);
    let serializer = compiled.get(key);
    if (!serializer) {
      serializer = fastJson(schema as Parameters<typeof fastJson>[0], {
        schema: app.getSchemas() as Record<string, Parameters<typeof fastJson>[0]>,
      });
      compiled.set(key, serializer);
    }
    return serializer;
  });
}
