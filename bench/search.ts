// Public practitioner search with next free slots, at 64 connections, on the `seed --scale` data
// set: specialty and city (or postal code) change with every request.
import { sql } from 'kysely';
import { SPECIALTIES } from '../src/modules/directory/index.js';
import { runPublicReadBench } from './_scheduling-common.js';

await runPublicReadBench(
  'search',
  async (db) => (await sql<{ city: string; postal_code: string }>`select distinct city, postal_code from establishments`.execute(db.owner)).rows,
  (i, places) => {
    const n = i + 1;
    const place = places[n % places.length]!;
    const near = n % 2 === 0 ? encodeURIComponent(place.city) : place.postal_code;
    return `/api/v1/search/practitioners?specialty=${SPECIALTIES[n % SPECIALTIES.length]!.code}&near=${near}&limit=10`;
  },
  // The paths repeat after lcm(specialties, places, 2) requests.
  (places) => lcm(lcm(SPECIALTIES.length, places.length), 2),
);

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}
