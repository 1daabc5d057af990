import { describe, expect, it } from 'vitest';
import { operationOf } from './support/contract.js';
import type { OpenApiDocument } from './support/contract.js';
import { drivers } from './support/databases.js';
import { useStockroom } from './support/harness.js';
import { useListening } from './support/listening.js';

interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, { example?: unknown }> };
}

/**
 * The request examples of the document, sent as Try it out in /docs sends them: in the order a new shop takes its
 * first steps, each answered with success. Path parameters are what earlier examples created.
 */
describe.each(drivers())('the examples of the OpenAPI document work as they are, on %s', (driver) => {
  const h = useStockroom(driver);
  const server = useListening(h);

  it('are each answered with success, from a first warehouse to a received purchase order', async () => {
    const admin = (await h.s.keys.create({ name: 'examples', scopes: ['admin'] })).key;
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument & {
      paths: Record<string, Record<string, Operation>>;
    };
    const byId = new Map(
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => [operation.operationId, { path, method, operation }]),
      ),
    );
    // what the examples refer to without creating it: a second warehouse and the sync source
    await h.s.catalog.addWarehouse({ code: 'BER', name: 'Berlin' });
    await h.s.sync.configureSource('wms-amsterdam', null);

    const ids: Record<string, string> = { code: 'AMS', sku: 'TEE-M', location: 'P-01-01' };
    const sent = new Set<string>();
    const send = async (operationId: string): Promise<Record<string, unknown>> => {
      const found = byId.get(operationId);
      if (!found) throw new Error(`no operation ${operationId}`);
      const path = found.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? '');
      const [type, media] = Object.entries(found.operation.requestBody?.content ?? {})[0] ?? [];
      const example = media?.example;
      // a CSV example is the text itself; a JSON one is the value
      const body = example === undefined ? undefined : typeof example === 'string' ? example : JSON.stringify(example);
      const res = await fetch(`${server.url}${path}`, {
        method: found.method.toUpperCase(),
        headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': type ?? '' }) },
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.text();
      expect(res.status, `${operationId}: ${text}`).toBeLessThan(300);
      expect(operationOf(document, found.method, path)?.operation.operationId).toBe(operationId);
      sent.add(operationId);
      return JSON.parse(text) as Record<string, unknown>;
    };

    for (const operationId of [
      'createWarehouse',
      'createBin',
      'createLocation',
      'updateLocation',
      'setWarehouseCapacity',
      'createVariant',
      'updateVariant',
      'setMeasures',
      'setPickMinimum',
      'receiveStock',
      'adjustStock',
      'countStock',
      'transferStock',
      'recordReturn',
      'moveStockState',
      'syncStock',
      'previewStockImport',
      'importStock',
    ])
      await send(operationId);
    // the kit example's variants (the kit holds nothing; its components are made here)
    for (const sku of ['GIFT-BOX', 'MUG', 'COFFEE-250']) await h.s.catalog.addVariant({ sku, product: { title: sku } });
    ids.sku = 'GIFT-BOX';
    await send('defineKit');
    ids.sku = 'TEE-M';
    ids.id = String((await send('createReservation')).id);
    for (const operationId of [
      'amendReservation',
      'moveReservationLine',
      'commitReservation',
      'fulfilReservation',
      'unfulfilReservation',
      'cancelReservation',
      'createApiKey',
      'createWebhook',
      'createChannel',
      'createSupplier',
    ])
      await send(operationId);
    ids.id = String((await send('createPurchaseOrder')).id);
    for (const operationId of [
      'setPurchaseOrderCosts',
      'sendPurchaseOrder',
      'confirmPurchaseOrder',
      'receivePurchaseOrder',
      'relocate',
      'countLocation',
    ])
      await send(operationId);

    // every example of the document was sent
    const withExamples = [...byId.entries()]
      .filter(([, { operation }]) =>
        Object.values(operation.requestBody?.content ?? {}).some((media) => media.example !== undefined),
      )
      .map(([operationId]) => operationId);
    expect(withExamples.filter((operationId) => !sent.has(operationId))).toEqual([]);
  });
});
