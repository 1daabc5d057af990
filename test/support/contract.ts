import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** The parts of an OpenAPI document the contract tests read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
}

/** One operation: its id and its responses by status, each with its media types. */
export interface OpenApiOperation {
  operationId: string;
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }
  >;
}

/** The operation a request was answered by, found by its method and path against the document's templates. */
export function operationOf(
  document: OpenApiDocument,
  method: string,
  path: string,
): { template: string; operation: OpenApiOperation } | undefined {
  const bare = path.split('?')[0] ?? path;
  // a path the document names as it is (/v1/stock/low) is that operation, not a template's (/v1/stock/{sku}), as the
  // server routes it
  const exact = document.paths[bare]?.[method.toLowerCase()];
  if (exact) return { template: bare, operation: exact };
  for (const [template, methods] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = methods[method.toLowerCase()];
    if (operation && pattern.test(bare)) return { template, operation };
  }
  return undefined;
}

/** A schema with every `#/components/schemas/X` reference replaced by the component (the API's shapes nest no cycle). */
function inline(schema: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inline(item, components));
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    if (!(name in components)) throw new Error(`the document has no component ${name}`);
    return inline(components[name], components);
  }
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, key === 'examples' ? value : inline(value, components)]),
  );
}

/**
 * Checks a body against a documented schema (JSON Schema 2020-12, as OpenAPI 3.1 has it): the problems found,
 * each at its JSON pointer; none when it conforms.
 */
export function conformance(document: OpenApiDocument, schema: unknown, body: unknown): string[] {
  const validator = Compile(inline(schema, document.components.schemas) as TSchema);
  if (validator.Check(body)) return [];
  return [...validator.Errors(body)].map((error) => `${error.instancePath || '/'} ${error.message}`);
}
