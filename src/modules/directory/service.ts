import { v7 as uuidv7 } from 'uuid';
import { DateTime } from 'luxon';
import type { Database, Tx } from '../../platform/db/database.js';
import type { PublicCache } from '../../platform/cache.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import type { DirectoryStore } from './store.js';
import type { EstablishmentPatchBody, PractitionerCreateBody, PractitionerPatchBody, SpecialtyDto } from './schemas.js';
import { isValidRpps } from './rpps.js';

const invalid = (field: string, message: string) => new DomainError('invalid_request', `${field}: ${message}`, { errors: [{ field, message }] });

function roleIn(actor: Actor, establishmentId: string) {
  return actor.kind === 'user' ? actor.memberships.find((m) => m.establishmentId === establishmentId)?.role : undefined;
}

/** Directory administration is an admin's job; a practitioner may also edit their own profile. */
function requireAdmin(actor: Actor, establishmentId: string): string {
  const role = roleIn(actor, establishmentId);
  if (role === undefined) throw new DomainError('not_found');
  if (role !== 'admin') throw new DomainError('forbidden');
  return role;
}

export function checkRpps(rpps: string): void {
  if (!/^\d{11}$/.test(rpps)) throw invalid('body.rpps', 'an RPPS number has exactly 11 digits');
  if (!isValidRpps(rpps)) throw invalid('body.rpps', 'the check digit (the 11th) does not match the first ten digits');
}

export function createDirectoryService(deps: { db: Database; store: DirectoryStore; cache?: PublicCache }) {
  const { db, store } = deps;
  /**
   * Every write here changes what public search and profiles show (names, specialties, time
   * zones), so the public cache forgets everything once it commits; such changes are rare.
   */
  async function write<T>(establishmentId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const result = await db.withTenant(establishmentId, fn);
    await deps.cache?.invalidateAll();
    return result;
  }
  const view = (p: { id: string; first_name: string; last_name: string; rpps: string; specialty_code: string; languages: string[]; teleconsult: boolean }) => ({
    id: p.id,
    firstName: p.first_name,
    lastName: p.last_name,
    rpps: p.rpps,
    specialty: p.specialty_code,
    languages: p.languages,
    teleconsult: p.teleconsult,
  });
  return {
    async listSpecialties(lang: 'fr' | 'en'): Promise<SpecialtyDto[]> {
      const rows = await deps.db.withPlatform((tx) => deps.store.listSpecialties(tx));
      return rows
        .map((r) => ({ code: r.code, label: lang === 'en' ? r.label_en : r.label_fr, labelFr: r.label_fr, labelEn: r.label_en }))
        .sort((a, b) => a.label.localeCompare(b.label, lang));
    },

    /** Adds a practitioner to the directory and to this establishment (admin). */
    async createPractitioner(actor: Actor, establishmentId: string, body: PractitionerCreateBody) {
      const role = requireAdmin(actor, establishmentId);
      checkRpps(body.rpps);
      return write(establishmentId, async (tx) => {
        if (!(await store.specialtyExists(tx, body.specialty))) throw invalid('body.specialty', 'not a specialty of GET /api/v1/specialties');
        // The RPPS directory is public: saying that a number is already listed reveals nothing.
        if (await store.findPractitionerByRpps(tx, body.rpps)) throw new DomainError('conflict', 'A practitioner with this RPPS number is already in the directory');
        const id = uuidv7();
        await store.insertPractitioner(tx, {
          id,
          userId: body.userId ?? null,
          firstName: body.firstName.trim(),
          lastName: body.lastName.trim(),
          rpps: body.rpps,
          specialty: body.specialty,
          languages: body.languages ?? ['fr'],
          teleconsult: body.teleconsult ?? false,
        });
        await store.linkPractitioner(tx, establishmentId, id);
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action: 'directory.practitioner.create', resourceKind: 'practitioner', resourceIds: [id], outcome: 'allowed' });
        return view((await store.findPractitioner(tx, id))!);
      });
    },

    async patchPractitioner(actor: Actor, establishmentId: string, practitionerId: string, body: PractitionerPatchBody) {
      const role = roleIn(actor, establishmentId);
      if (role === undefined) throw new DomainError('not_found');
      return write(establishmentId, async (tx) => {
        if (!(await store.practisesIn(tx, establishmentId, practitionerId))) throw new DomainError('not_found');
        const current = (await store.findPractitioner(tx, practitionerId))!;
        const self = actor.kind === 'user' && current.user_id === actor.userId;
        if (role !== 'admin' && !(role === 'practitioner' && self)) throw new DomainError('forbidden');
        if (body.specialty !== undefined && !(await store.specialtyExists(tx, body.specialty))) throw invalid('body.specialty', 'not a specialty of GET /api/v1/specialties');
        await store.updatePractitioner(tx, practitionerId, {
          ...(body.specialty !== undefined ? { specialty_code: body.specialty } : {}),
          ...(body.languages !== undefined ? { languages: body.languages } : {}),
          ...(body.teleconsult !== undefined ? { teleconsult: body.teleconsult } : {}),
        });
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action: 'directory.practitioner.update', resourceKind: 'practitioner', resourceIds: [practitionerId], outcome: 'allowed' });
        return view((await store.findPractitioner(tx, practitionerId))!);
      });
    },

    /**
     * The establishment as its staff see it: name, place, time zone and practitioners (directory
     * data, public anyway), with the caller's own practitioner profile marked. Members only; any
     * other establishment is 404.
     */
    async describeEstablishment(actor: Actor, establishmentId: string) {
      if (roleIn(actor, establishmentId) === undefined) throw new DomainError('not_found');
      return db.withTenant(establishmentId, async (tx) => {
        const e = await store.findEstablishment(tx, establishmentId);
        if (!e) throw new DomainError('not_found');
        const practitioners = await store.listPractitionersOf(tx, establishmentId);
        return {
          id: e.id,
          name: e.name,
          city: e.city,
          postalCode: e.postal_code,
          timeZone: e.time_zone,
          practitioners: practitioners.map((p) => ({
            id: p.id,
            userId: p.user_id,
            name: `${p.first_name} ${p.last_name}`,
            specialty: p.specialty_code,
            self: actor.kind === 'user' && p.user_id === actor.userId,
          })),
        };
      });
    },

    async updateEstablishment(actor: Actor, establishmentId: string, body: EstablishmentPatchBody) {
      const role = requireAdmin(actor, establishmentId);
      const { timeZone, reminderOffsetsHours } = body;
      if (timeZone !== undefined && (!DateTime.local().setZone(timeZone).isValid || !timeZone.includes('/'))) throw invalid('body.timeZone', 'not an IANA time zone such as Europe/Paris');
      return write(establishmentId, async (tx) => {
        await store.updateEstablishment(tx, establishmentId, {
          ...(timeZone !== undefined ? { time_zone: timeZone } : {}),
          ...(reminderOffsetsHours !== undefined ? { reminder_offsets_hours: [...reminderOffsetsHours].sort((a, b) => b - a) } : {}),
        });
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action: 'directory.establishment.update', resourceKind: 'establishment', resourceIds: [establishmentId], outcome: 'allowed' });
        const e = (await store.findEstablishment(tx, establishmentId))!;
        return { id: e.id, name: e.name, city: e.city, postalCode: e.postal_code, timeZone: e.time_zone, reminderOffsetsHours: e.reminder_offsets_hours };
      });
    },
  };
}
export type DirectoryService = ReturnType<typeof createDirectoryService>;
