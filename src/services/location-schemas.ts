import Type from 'typebox';
import type { Static } from 'typebox';
import { LOCATION_TYPES, MAX_UNIT_VOLUME_CM3 } from '../domain/locations.js';
import { BinCode, Count, Quantity, Sku } from './schemas.js';

/** Grams, cubic centimetres, millimetres: whole, positive, within what a bigint and a JSON number hold exactly. */
const Measure = Type.Integer({ minimum: 1, maximum: 1_000_000_000_000 });
/** A limit: a measure, or null for none. */
const Limit = Type.Union([Measure, Type.Null()]);
const LocationType = Type.Enum(LOCATION_TYPES, { description: 'pick_face, bulk (default) or overflow' });

/** A new location in a warehouse (the warehouse is in the path). */
export const LocationInput = Type.Object(
  {
    code: BinCode,
    type: Type.Optional(LocationType),
    max_weight_g: Type.Optional(Limit),
    max_volume_cm3: Type.Optional(Limit),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** What `locations.add` takes. */
export type LocationInput = Static<typeof LocationInput>;

/** A location's settings to change; what is not given stays as it was. */
export const LocationUpdate = Type.Object(
  {
    type: Type.Optional(LocationType),
    max_weight_g: Type.Optional(Limit),
    max_volume_cm3: Type.Optional(Limit),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** What `locations.update` takes. */
export type LocationUpdate = Static<typeof LocationUpdate>;

/** A pick face's minimum of a variant (null: no minimum, and the face no longer assigned to it). */
export const PickMinimumInput = Type.Object(
  { sku: Sku, min_qty: Type.Union([Count, Type.Null()]) },
  { additionalProperties: false },
);
/** What `locations.setPickMinimum` takes. */
export type PickMinimumInput = Static<typeof PickMinimumInput>;

/** What a unit of a variant weighs and measures; each may be null (not known). */
export const MeasuresInput = Type.Object(
  {
    weight_g: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 2_000_000_000 }), Type.Null()])),
    dimensions_mm: Type.Optional(
      Type.Union([
        Type.Object(
          {
            length: Type.Integer({ minimum: 1, maximum: 100_000 }),
            width: Type.Integer({ minimum: 1, maximum: 100_000 }),
            height: Type.Integer({ minimum: 1, maximum: 100_000 }),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    volume_cm3: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: MAX_UNIT_VOLUME_CM3 }), Type.Null()], {
        description: 'left out with dimensions given: derived from them, rounded up (and refused past the maximum)',
      }),
    ),
  },
  { additionalProperties: false },
);
/** What `locations.setMeasures` takes. */
export type MeasuresInput = Static<typeof MeasuresInput>;

/** A warehouse's capacity in cubic centimetres (null: none stated). */
export const CapacityInput = Type.Object({ capacity_cm3: Limit }, { additionalProperties: false });
/** What `locations.setCapacity` takes. */
export type CapacityInput = Static<typeof CapacityInput>;

/** Units to put away: for a suggestion of where. */
export const PutAwayQuery = Type.Object({ sku: Sku, qty: Quantity }, { additionalProperties: false });
/** What `locations.suggestPutAway` takes. */
export type PutAwayQuery = Static<typeof PutAwayQuery>;

/** Units of a variant moved from one location to another in the same warehouse (a replenishment, confirmed). */
export const RelocateInput = Type.Object(
  {
    sku: Sku,
    from: BinCode,
    to: BinCode,
    qty: Quantity,
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
/** What `locations.relocate` takes. */
export type RelocateInput = Static<typeof RelocateInput>;

/** What was found of a SKU in a location (a cycle count). */
export const LocationCountInput = Type.Object(
  { sku: Sku, counted: Count, reference: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);
/** What `locations.count` takes. */
export type LocationCountInput = Static<typeof LocationCountInput>;
