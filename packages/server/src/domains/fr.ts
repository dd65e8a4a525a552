/**
 * FR record type `Farmer` (dci-brief §7.6; [S] `extensions/fr/v1/data/{Farmer,FarmInfo,
 * FarmingActivities,CropDetails,LivestockDetails}.jsonld`): the person's `Member` as
 * `farmer_personal_details` and one `FarmInfo` per farm in `farm_details`, its crops and livestock
 * under `farming_activities`. Per farm we also give what the spec has no place for but the registry
 * records and searches: the farm's `identifier`s, `farm_type` and `irrigation_type`. The top-level
 * `farm_type` is set when every farm has the same one.
 */
import { compact, identifiers, toMember, urn, type DciRecord, type IdentifierRow, type PersonRow } from './records.js';

/** MeasurmentUnitEnum (sic): 0 H, 1 AC, 2 SQM, 3 SQKM, 4 SQF, 5 SQY, 6 DU. Other units are shown as recorded. */
const UNIT_CODES: Readonly<Record<string, string>> = {
  hectare: '0',
  hectares: '0',
  ha: '0',
  h: '0',
  acre: '1',
  acres: '1',
  ac: '1',
  sqm: '2',
  m2: '2',
  square_metre: '2',
  square_meter: '2',
  sqkm: '3',
  km2: '3',
  sqf: '4',
  sqft: '4',
  sqy: '5',
  sqyd: '5',
  du: '6',
  dunam: '6',
};

export interface FarmRow {
  id: string;
  identifiers: IdentifierRow[] | null;
  farm_type: string | null;
  land_size: number | null;
  land_tenure: string | null;
  measurement_unit: string | null;
  crop_types: string[] | null;
  irrigation_type: string | null;
  livestock: { type: string; count: number }[] | null;
  area_name: string | null;
  registration_date: string | null;
  last_updated: string;
}

function farm(row: FarmRow): DciRecord {
  const unit = row.measurement_unit;
  return compact({
    '@id': urn(row.id),
    '@type': 'FarmInfo',
    identifier: identifiers(row.identifiers ?? []),
    farm_type: row.farm_type,
    location: row.area_name ? { '@type': 'Place', name: row.area_name } : undefined,
    land_tenure: row.land_tenure,
    land_size: row.land_size,
    measurment: unit === null ? undefined : (UNIT_CODES[unit.toLowerCase()] ?? unit),
    irrigation_type: row.irrigation_type,
    farming_activities: compact({
      crop_production: (row.crop_types ?? []).map((crop) => ({ crop_type_name: crop })),
      animal_production: (row.livestock ?? []).map((l) => ({ type: l.type, count: l.count })),
    }),
    registration_date: row.registration_date,
    last_updated: row.last_updated,
  });
}

/** A registry individual as an FR `Farmer`. */
export function toFarmer(row: PersonRow, ids: readonly IdentifierRow[], farms: readonly FarmRow[]): DciRecord {
  const types = new Set(farms.map((f) => f.farm_type));
  const [only] = types;
  return compact({
    '@id': urn(row.id),
    '@type': 'Farmer',
    farmer_personal_details: toMember(row, ids),
    farm_type: types.size === 1 ? only : undefined,
    farm_details: farms.map(farm),
    registration_date: row.registration_date,
    last_updated: row.updated_at.toISOString(),
  });
}
