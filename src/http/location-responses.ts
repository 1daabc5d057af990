import Type from 'typebox';
import type { Static } from 'typebox';
import { COUNT_METHODS, LOCATION_TYPES } from '../domain/locations.js';
import type {
  CountPlan,
  Location,
  LocationCount,
  LocationList,
  Measures,
  PickList,
  PutAwaySuggestion,
  Relocation,
  ReplenishmentSuggestion,
  VarianceReport,
} from '../services/locations.js';
import { OneOf, OrNull } from './responses.js';
import type { Check, Same } from './responses.js';

/**
 * The shapes of what the warehouse-floor routes answer (see responses.ts: they document and serialize each answer,
 * and each is checked against its service type).
 */

const Text = Type.String();
const Int = Type.Integer();
const Time = Type.String({ format: 'date-time' });
const Stops = Type.Array(Type.Object({ location: Text, qty: Int }));

const LocationSchema = Type.Object({
  warehouse: Text,
  code: Text,
  type: OneOf(LOCATION_TYPES),
  active: Type.Boolean(),
  max_weight_g: OrNull(Int),
  max_volume_cm3: OrNull(Int),
  fill: Type.Object(
    { units: Int, weight_g: Int, volume_cm3: Int },
    { description: 'what its units weigh and take up now; units of variants without measures count for nothing' },
  ),
  contents: Type.Array(
    Type.Object({
      sku: Text,
      qty: Int,
      min_qty: OrNull(Int),
      last_moved_at: OrNull(Time),
      last_counted_at: OrNull(Time),
    }),
  ),
});
type _Location = Check<Same<Static<typeof LocationSchema>, Location>>;

const LocationListSchema = Type.Object({
  warehouse: Text,
  capacity_cm3: OrNull(Int),
  volume_cm3: Type.Integer({ description: 'the volume of every unit on hand in the warehouse, in a location or not' }),
  items: Type.Array(LocationSchema),
});
type _LocationList = Check<Same<Static<typeof LocationListSchema>, LocationList>>;

const MeasuresSchema = Type.Object({
  sku: Text,
  weight_g: OrNull(Int),
  dimensions_mm: Type.Union([Type.Object({ length: Int, width: Int, height: Int }), Type.Null()]),
  volume_cm3: OrNull(Int),
});
type _Measures = Check<Same<Static<typeof MeasuresSchema>, Measures>>;

const PutAwaySuggestionSchema = Type.Object({
  sku: Text,
  warehouse: Text,
  qty: Int,
  stops: Stops,
  unplaced: Type.Integer({ description: 'units with room nowhere: a receipt of them is refused unless forced' }),
});
type _PutAwaySuggestion = Check<Same<Static<typeof PutAwaySuggestionSchema>, PutAwaySuggestion>>;

const PickListSchema = Type.Object({
  reservation_id: Text,
  order_ref: Text,
  lines: Type.Array(Type.Object({ line_no: Int, sku: Text, warehouse: Text, qty: Int, stops: Stops, unlocated: Int })),
  walk: Type.Array(Type.Object({ warehouse: Text, location: Text, sku: Text, qty: Int })),
});
type _PickList = Check<Same<Static<typeof PickListSchema>, PickList>>;

const ReplenishmentSchema = Type.Object({
  warehouse: Text,
  sku: Text,
  to: Text,
  on_face: Int,
  min_qty: Int,
  qty: Int,
  from: Stops,
});
type _Replenishment = Check<Same<Static<typeof ReplenishmentSchema>, ReplenishmentSuggestion>>;

const RelocationSchema = Type.Object({ warehouse: Text, sku: Text, from: Text, to: Text, qty: Int });
type _Relocation = Check<Same<Static<typeof RelocationSchema>, Relocation>>;

const LocationCountSchema = Type.Object({
  warehouse: Text,
  location: Text,
  sku: Text,
  expected: Int,
  counted: Int,
  variance: Type.Integer({ description: 'counted - expected: units found more (positive) or fewer' }),
  actor: OrNull(Text),
  counted_at: Time,
});
type _LocationCount = Check<Same<Static<typeof LocationCountSchema>, LocationCount>>;

const CountPlanSchema = Type.Object({
  warehouse: Text,
  method: OneOf(COUNT_METHODS),
  currency: Text,
  window_days: Int,
  items: Type.Array(
    Type.Object({
      location: Text,
      sku: Text,
      qty: Int,
      class: OneOf(['A', 'B', 'C'] as const),
      moved: Int,
      moved_value: Type.Integer({
        description: 'the value of the units moved, in minor units; uncosted units at none',
      }),
      last_counted_at: OrNull(Time),
    }),
  ),
});
type _CountPlan = Check<Same<Static<typeof CountPlanSchema>, CountPlan>>;

const VarianceReportSchema = Type.Object({
  warehouse: Text,
  since: Time,
  counts: Int,
  net_variance: Int,
  absolute_variance: Int,
  items: Type.Array(LocationCountSchema),
});
type _VarianceReport = Check<Same<Static<typeof VarianceReportSchema>, VarianceReport>>;

/** Every warehouse-floor response shape, by the name the routes give it. */
export const LocationAnswers = {
  Location: LocationSchema,
  LocationList: LocationListSchema,
  Measures: MeasuresSchema,
  PutAwaySuggestion: PutAwaySuggestionSchema,
  PickList: PickListSchema,
  ReplenishmentList: Type.Object({ items: Type.Array(ReplenishmentSchema) }),
  Relocation: RelocationSchema,
  LocationCount: LocationCountSchema,
  CountPlan: CountPlanSchema,
  VarianceReport: VarianceReportSchema,
};
