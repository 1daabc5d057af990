import Type from 'typebox';
import type { Command } from 'commander';
import { COUNT_METHODS } from '../domain/locations.js';
import { formatMoney } from '../domain/money.js';
import { MAX_PAGE } from '../services/paging.js';
import { parse } from '../services/schemas.js';
import type { Location, PickList } from '../services/locations.js';
import { CapacityInput, LocationCountInput, PickMinimumInput, RelocateInput } from '../services/location-schemas.js';
import { runAndPrint } from './context.js';
import type { CommandContext } from './context.js';
import { table } from './output.js';
import { int, intOption, pageSizeOption } from './args.js';

const CountMethodSchema = Type.Enum(COUNT_METHODS);

/**
 * A limit as a flag gives it: a number, or "none" for no limit, kept as the word (commander stores '' for an option
 * whose parser returns null) and made null by `locationFields`. Only for options, where commander says which one
 * a refusal is about; an argument is read with `int` and its schema, which names it.
 */
const limitOption = (value: string): number | 'none' => (value === 'none' ? 'none' : intOption(value));

/** A limit flag as the input takes it: "none" is null, no limit. */
const limitOf = (value: number | 'none'): number | null => (value === 'none' ? null : value);

const limitText = (value: number | null, unit: string): string => (value === null ? '-' : `${value} ${unit}`);

/** One line per location: its type, whether active, its fill against its limits, what it holds. */
export function locationTable(locations: readonly Location[]): string {
  return table(
    ['location', 'type', 'active', 'units', 'weight', 'max weight', 'volume', 'max volume', 'holds'],
    locations.map((location) => [
      location.code,
      location.type,
      location.active ? 'yes' : 'no',
      location.fill.units,
      `${location.fill.weight_g} g`,
      limitText(location.max_weight_g, 'g'),
      `${location.fill.volume_cm3} cm3`,
      limitText(location.max_volume_cm3, 'cm3'),
      location.contents
        .map((held) => `${held.sku} ${held.qty}${held.min_qty === null ? '' : ` (min ${held.min_qty})`}`)
        .join(', '),
    ]),
  );
}

const pickListText = (list: PickList): string =>
  table(
    ['warehouse', 'location', 'sku', 'qty'],
    [
      ...list.walk.map((stop) => [stop.warehouse, stop.location, stop.sku, stop.qty]),
      ...list.lines
        .filter((line) => line.unlocated > 0)
        .map((line) => [line.warehouse, '(none)', line.sku, line.unlocated]),
    ],
  );

interface LocationFlags {
  type?: string;
  maxWeight?: number | 'none';
  maxVolume?: number | 'none';
  active?: boolean;
}

const locationFields = (flags: LocationFlags) => ({
  ...(flags.type === undefined ? {} : { type: flags.type as Location['type'] }),
  ...(flags.maxWeight === undefined ? {} : { max_weight_g: limitOf(flags.maxWeight) }),
  ...(flags.maxVolume === undefined ? {} : { max_volume_cm3: limitOf(flags.maxVolume) }),
  ...(flags.active === undefined ? {} : { active: flags.active }),
});

const withLocationFlags = (command: Command): Command =>
  command
    .option('--type <type>', 'pick_face | bulk | overflow')
    .option('--max-weight <grams>', 'the most its units may weigh ("none": no limit)', limitOption)
    .option('--max-volume <cm3>', 'the most its units may take up ("none": no limit)', limitOption)
    .option('--active', 'takes units (the default)')
    .option('--no-active', 'takes no more units (picking from it goes on)');

/** `stockroom location`, `pick-list`, `variant measures`: the warehouse floor. */
export function registerLocations(program: Command, ctx: () => CommandContext): void {
  const location = program.command('location').description('locations of a warehouse: type, limits, fill');
  withLocationFlags(location.command('add <warehouse> <code>').description('add a location (aisle-rack-shelf)')).action(
    async (warehouse: string, code: string, flags: LocationFlags) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.locations.add(warehouse, { code, ...locationFields(flags) }, call),
        (added) => `location ${added.code} (${added.type}) added to ${added.warehouse}`,
      );
    },
  );
  withLocationFlags(location.command('update <warehouse> <code>').description("change a location's settings")).action(
    async (warehouse: string, code: string, flags: LocationFlags) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) => stockroom.locations.update(warehouse, code, locationFields(flags), call),
        (changed) => locationTable([changed]),
      );
    },
  );
  location
    .command('list <warehouse>')
    .description("a warehouse's locations with their fill")
    .option('--type <type>', 'only pick_face | bulk | overflow')
    .action(async (warehouse: string, flags: { type?: string }) => {
      await runAndPrint(
        ctx(),
        (stockroom) =>
          stockroom.locations.list(warehouse, flags.type === undefined ? {} : { type: flags.type as Location['type'] }),
        (list) =>
          `${list.warehouse}: ${list.volume_cm3} cm3 on hand${list.capacity_cm3 === null ? '' : ` of ${list.capacity_cm3} cm3`}\n${locationTable(list.items)}`,
      );
    });
  location
    .command('minimum <warehouse> <code> <sku> <qty>')
    .description('a pick face\'s minimum of a SKU ("none" clears it)')
    .action(async (warehouse: string, code: string, sku: string, qty: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.locations.setPickMinimum(
            warehouse,
            code,
            parse(PickMinimumInput, { sku, min_qty: qty === 'none' ? null : int(qty) }),
            call,
          ),
        (changed) => locationTable([changed]),
      );
    });
  location
    .command('replenishments <warehouse>')
    .description('pick faces below their minimum, and the move from bulk that refills each')
    .action(async (warehouse: string) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.locations.replenishments(warehouse),
        (items) =>
          table(
            ['sku', 'to', 'on face', 'min', 'qty', 'from'],
            items.map((item) => [
              item.sku,
              item.to,
              item.on_face,
              item.min_qty,
              item.qty,
              item.from.map((stop) => `${stop.location} ${stop.qty}`).join(', '),
            ]),
          ),
      );
    });
  location
    .command('move <warehouse> <sku> <from> <to> <qty>')
    .description('move units between two locations (a replenishment confirmed); on hand stays')
    .action(async (warehouse: string, sku: string, from: string, to: string, qty: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.locations.relocate(warehouse, parse(RelocateInput, { sku, from, to, qty: int(qty) }), call),
        (moved) => `${moved.qty} of ${moved.sku} moved ${moved.from} -> ${moved.to} in ${moved.warehouse}`,
      );
    });
  location
    .command('capacity <warehouse> <cm3>')
    .description('a warehouse\'s capacity in cm3 ("none": none stated)')
    .action(async (warehouse: string, cm3: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.locations.setCapacity(
            warehouse,
            parse(CapacityInput, { capacity_cm3: cm3 === 'none' ? null : int(cm3) }),
            call,
          ),
        (list) => `${list.warehouse}: capacity ${limitText(list.capacity_cm3, 'cm3')}, ${list.volume_cm3} cm3 on hand`,
      );
    });
  location
    .command('count <warehouse> <code> <sku> <counted>')
    .description('record a cycle count of a SKU in a location (the variance moves on hand)')
    .action(async (warehouse: string, code: string, sku: string, counted: string) => {
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.locations.count(warehouse, code, parse(LocationCountInput, { sku, counted: int(counted) }), call),
        (count) =>
          `${count.sku} in ${count.warehouse}/${count.location}: expected ${count.expected}, counted ${count.counted}, variance ${count.variance}`,
      );
    });
  location
    .command('count-plan <warehouse>')
    .description('what to count today')
    .option('--method <method>', 'abc (by movement value, the default) | oldest')
    .option('--limit <n>', `how many, 1-${MAX_PAGE} (default 20)`, pageSizeOption)
    .action(async (warehouse: string, flags: { method?: string; limit?: number }) => {
      await runAndPrint(
        ctx(),
        (stockroom) =>
          stockroom.locations.countPlan(warehouse, {
            method: parse(CountMethodSchema, flags.method ?? 'abc', '/method'),
            limit: flags.limit,
          }),
        (plan) =>
          table(
            ['location', 'sku', 'qty', 'class', 'moved', 'value moved', 'last counted'],
            plan.items.map((item) => [
              item.location,
              item.sku,
              item.qty,
              item.class,
              item.moved,
              formatMoney(item.moved_value, plan.currency),
              item.last_counted_at ?? 'never',
            ]),
          ),
      );
    });
  location
    .command('variance <warehouse>')
    .description('the cycle counts of the last 30 days and their variance')
    .action(async (warehouse: string) => {
      await runAndPrint(
        ctx(),
        (stockroom) => stockroom.locations.varianceReport(warehouse),
        (report) =>
          `${report.counts} counts since ${report.since}: net ${report.net_variance}, absolute ${report.absolute_variance}\n` +
          table(
            ['counted at', 'location', 'sku', 'expected', 'counted', 'variance'],
            report.items.map((item) => [
              item.counted_at,
              item.location,
              item.sku,
              item.expected,
              item.counted,
              item.variance,
            ]),
          ),
      );
    });
  program
    .command('pick-list <reservation>')
    .description('what to pick for a reservation, from which locations, in walking order')
    .action(async (id: string) => {
      await runAndPrint(ctx(), (stockroom) => stockroom.locations.pickList(id), pickListText);
    });
  program
    .command('measures <sku>')
    .description('set what a unit of a SKU weighs and measures (what is not given is not known)')
    .option('--weight <grams>', 'weight of a unit', intOption)
    .option('--dimensions <LxWxH>', 'dimensions of a unit in millimetres, e.g. 300x200x20')
    .option('--volume <cm3>', 'volume of a unit (else derived from the dimensions)', intOption)
    .action(async (sku: string, flags: { weight?: number; dimensions?: string; volume?: number }) => {
      const [length, width, height] = (flags.dimensions ?? '').split('x').map(Number);
      await runAndPrint(
        ctx(),
        (stockroom, call) =>
          stockroom.locations.setMeasures(
            sku,
            {
              ...(flags.weight === undefined ? {} : { weight_g: flags.weight }),
              ...(flags.dimensions === undefined
                ? {}
                : { dimensions_mm: { length: length ?? NaN, width: width ?? NaN, height: height ?? NaN } }),
              ...(flags.volume === undefined ? {} : { volume_cm3: flags.volume }),
            },
            call,
          ),
        (measures) =>
          `${measures.sku}: ${measures.weight_g ?? '?'} g, ${measures.volume_cm3 ?? '?'} cm3${measures.dimensions_mm ? ` (${measures.dimensions_mm.length}x${measures.dimensions_mm.width}x${measures.dimensions_mm.height} mm)` : ''}`,
      );
    });
}
