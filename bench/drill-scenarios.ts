// The drill's scenarios: attacks (a stolen session per role, a leaked key, a patient account) and
// normal busy days per role. Each prints one JSON line.
import { sql } from 'kysely';
import type { Actor } from '../src/platform/http/context.js';
import type { DrillKit } from './drill.js';
import { SURNAMES } from './drill-data.js';

const MIN = 60_000;
const DAY = 86_400_000;

type Line = Record<string, unknown>;
function emit(line: Line) {
  console.log(JSON.stringify({ bench: 'drill', ...line }));
}

export async function runScenarios(k: DrillKit): Promise<void> {
  const { d } = k;
  const at8 = new Date(d.today.getTime() + 7 * 3600_000); // 08:00 in Paris (CET)
  const patientIds = (await sql<{ id: string }>`select id from drill_patients order by idx`.execute(k.db.owner)).rows.map((r) => r.id);
  const pick = (i: number) => patientIds[(i * 7_919 + 13) % patientIds.length]!;
  const dayStart = (offset: number) => new Date(d.today.getTime() + offset * DAY);
  const nearExplained = async (ids: Set<string>, practitioners: string[] | null) => {
    if (ids.size === 0) return 0;
    const { rows } = await sql<{ n: string }>`
      select count(distinct patient_id) as n from drill_appointments
      where patient_id = any(${[...ids]}::uuid[]) and start_at >= ${dayStart(-1)} and start_at <= ${dayStart(15)}
        ${practitioners ? sql`and practitioner_user_id = any(${practitioners}::uuid[])` : sql``}`.execute(k.db.owner);
    return Number(rows[0]!.n);
  };

  async function attack(name: string, role: string, actor: Actor, canStepUp: boolean, target: number | null, body: (s: InstanceType<DrillKit['Session']>, ops: ReturnType<DrillKit['operations']>, clock: InstanceType<DrillKit['Clock']>) => Promise<void>, ownPractitioners: string[] | null = null) {
    const clock = new k.Clock(at8);
    const { ops } = k.makeWorld(clock, d);
    const s = new k.Session(actor, clock, canStepUp);
    const t0 = clock.t;
    await body(s, ops, clock);
    const explained = ownPractitioners === null ? 0 : await nearExplained(s.exposed, ownPractitioners);
    const exposedBeyondOwnView = s.exposed.size - explained;
    emit({
      scenario: name,
      kind: 'attack',
      role,
      exposed: s.exposed.size,
      ...(ownPractitioners !== null ? { exposedInOwnNearView: explained, exposedBeyondOwnView } : {}),
      requests: s.requests,
      stepUps: s.stepUps,
      contained: s.contained,
      simulatedMinutes: Math.round((clock.t - t0) / MIN),
      target,
      pass: target === null ? null : (ownPractitioners !== null ? exposedBeyondOwnView : s.exposed.size) <= target,
    });
  }

  const secretary = (i: number) => d.secretaries[i]!;
  const practitioner = (i: number) => d.practitioners[i]!;

  // 1. Fast agenda scraping with a secretary's session: months of history, every practitioner.
  await attack('agenda_history_fast', 'secretary', k.user(secretary(0)), true, 25, async (s, ops, clock) => {
    for (let day = -120; day < 0 && !s.contained; day++) {
      for (const p of d.practitioners) {
        if (s.contained) break;
        await s.run((a) => ops.agenda(a, p, dayStart(day), dayStart(day + 1)));
        clock.advance(500);
      }
    }
  }, d.assignments.get(secretary(0)) ?? []);
  // 1b. The same stolen secretary session, but reading first what it may see anyway: the near-window
  // agendas of the practitioners it works for (the explained ceiling), then everything else.
  await attack('agenda_own_near_window_then_all', 'secretary', k.user(secretary(1)), true, 25, async (s, ops, clock) => {
    for (let day = -1; day <= 14 && !s.contained; day++) {
      for (const p of [...(d.assignments.get(secretary(1)) ?? []), ...d.practitioners]) {
        if (s.contained) break;
        await s.run((a) => ops.agenda(a, p, dayStart(day), dayStart(day + 1)));
        clock.advance(500);
      }
    }
  }, d.assignments.get(secretary(1)) ?? []);
  // 2. A practitioner's session scraping colleagues' agendas (today and this month).
  await attack('agenda_colleagues_fast', 'practitioner', k.user(practitioner(20)), true, 25, async (s, ops, clock) => {
    for (let day = 0; day < 30 && !s.contained; day++) {
      for (const p of d.practitioners.slice(21)) {
        if (s.contained) break;
        await s.run((a) => ops.agenda(a, p, dayStart(day), dayStart(day + 1)));
        clock.advance(500);
      }
    }
  }, [practitioner(20)]);
  // 3. Identity searches with common surnames and guessed birth dates.
  await attack('identity_search_common_surnames', 'secretary', k.user(secretary(2)), true, 25, async (s, ops, clock) => {
    for (let i = 0; i < 2000 && !s.contained; i++) {
      const birth = new Date(Date.UTC(1940, 0, 1) + ((i * 7919) % 25000) * DAY).toISOString().slice(0, 10);
      await s.run((a) => ops.search(a, SURNAMES[i % SURNAMES.length]!, birth, d));
      clock.advance(1000);
    }
  }, d.assignments.get(secretary(2)) ?? []);
  // 4. Walking patient ids harvested elsewhere (a leaked agenda export), with a practitioner's session.
  await attack('walk_harvested_ids', 'practitioner', k.user(practitioner(30)), true, 25, async (s, ops, clock) => {
    for (let i = 0; i < 2000 && !s.contained; i++) {
      await s.run((a) => ops.openFile(a, pick(i), d));
      clock.advance(700);
    }
  }, [practitioner(30)]);
  // 4b. The same walk with a secretary's session.
  await attack('walk_harvested_ids', 'secretary', k.user(secretary(3)), true, 25, async (s, ops, clock) => {
    for (let i = 0; i < 2000 && !s.contained; i++) {
      await s.run((a) => ops.openFile(a, pick(i + 5000), d));
      clock.advance(700);
    }
  }, d.assignments.get(secretary(3)) ?? []);
  // 4c. A practitioner walking their own patients' files (explained by care relationships).
  await attack('walk_own_patients_fast', 'practitioner', k.user(practitioner(40)), true, null, async (s, ops, clock) => {
    const own = (await sql<{ patient_id: string }>`select distinct patient_id from drill_appointments where practitioner_user_id = ${practitioner(40)}`.execute(k.db.owner)).rows.map((r) => r.patient_id);
    for (const id of own) {
      if (s.contained) break;
      void own.length;
      await s.run((a) => ops.openFile(a, id, d));
      clock.advance(700);
    }
  }, [practitioner(40)]);
  // 5. Slow and low over a whole simulated working day (08:00–19:00): one file every 3 minutes.
  for (const [role, who, own] of [
    ['secretary', secretary(4), d.assignments.get(secretary(4)) ?? []],
    ['practitioner', practitioner(50), [practitioner(50)]],
  ] as const) {
    await attack('slow_and_low_day', role, k.user(who), true, 100, async (s, ops, clock) => {
      for (let i = 0; clock.t < at8.getTime() + 11 * 3600_000 && !s.contained; i++) {
        await s.run((a) => ops.openFile(a, pick(i + 10_000), d));
        clock.advance(3 * MIN);
      }
    }, [...own]);
  }
  // 6. Admin and security officer sessions: they read no patient data at all.
  for (const [role, who] of [
    ['admin', d.admins[0]!],
    ['security_officer', d.officers[0]!],
  ] as const) {
    await attack('any_patient_read', role, k.user(who), true, 25, async (s, ops, clock) => {
      for (let i = 0; i < 50 && !s.contained; i++) {
        await s.run((a) => ops.openFile(a, pick(i), d));
        await s.run((a) => ops.agenda(a, null, dayStart(0), dayStart(1)));
        clock.advance(1000);
      }
    });
  }
  // 7. A leaked integration key (agenda and patient scopes), fast: history then patient files.
  const key: Actor = { kind: 'api_key', apiKeyId: '0190b000-0000-7000-8000-00000000d001', establishmentId: d.establishmentId, scopes: ['agenda:read', 'patients:read'] };
  await attack('leaked_api_key', 'api_key', key, false, 25, async (s, ops, clock) => {
    for (let day = -60; day < 0 && !s.contained; day++) {
      await s.run((a) => ops.agenda(a, null, dayStart(day), dayStart(day + 1)));
      clock.advance(500);
    }
    for (let i = 0; i < 500 && !s.contained; i++) {
      await s.run((a) => ops.openFile(a, pick(i + 20_000), d));
      clock.advance(500);
    }
  });
  // 8. A patient account asking for other patients' files and appointments by id.
  const patient = d.patientAccounts[0]!;
  await attack('patient_other_ids', 'patient', k.user(patient.userId), true, 0, async (s, ops, clock) => {
    for (let i = 0; i < 500 && !s.contained; i++) {
      await s.run((a) => ops.openFile(a, pick(i + 30_000), d));
      clock.advance(1000);
    }
  });

  await normalDays(k, at8, dayStart);
}

async function normalDays(k: DrillKit, at8: Date, dayStart: (o: number) => Date): Promise<void> {
  const { d } = k;
  const endOfDay = at8.getTime() + 11 * 3600_000;

  async function day(name: string, role: string, actors: Actor[], body: (s: InstanceType<DrillKit['Session']>, ops: ReturnType<DrillKit['operations']>, clock: InstanceType<DrillKit['Clock']>, i: number) => Promise<void>) {
    let stepUps = 0;
    let maxStepUps = 0;
    let contained = 0;
    let requests = 0;
    for (const [i, actor] of actors.entries()) {
      const clock = new k.Clock(at8);
      const { ops } = k.makeWorld(clock, d);
      const s = new k.Session(actor, clock, actor.kind === 'user');
      await body(s, ops, clock, i);
      stepUps += s.stepUps;
      maxStepUps = Math.max(maxStepUps, s.stepUps);
      if (s.contained) contained += 1;
      requests += s.requests;
    }
    emit({ scenario: name, kind: 'normal_day', role, people: actors.length, requests, falseStepUps: stepUps, maxStepUpsPerPerson: maxStepUps, falseContainments: contained, pass: contained === 0 && maxStepUps <= 1 });
  }

  // A practitioner's day: 40 consultations (agenda, file, clinical history, a note), a few
  // colleagues' patients looked up, tomorrow's agenda at the end of the day.
  await day('busy_day', 'practitioner', d.busy.map((p) => k.user(p)), async (s, ops, clock, i) => {
    const me = d.busy[i]!;
    await s.run((a) => ops.agenda(a, me, dayStart(0), dayStart(1)));
    const today = (await sql<{ patient_id: string }>`select patient_id from drill_appointments where practitioner_user_id = ${me} and start_at >= ${dayStart(0)} and start_at < ${dayStart(1)} order by start_at`.execute(k.db.owner)).rows.map((r) => r.patient_id);
    for (const [j, pid] of today.entries()) {
      await s.run((a) => ops.openFile(a, pid, d));
      await s.run((a) => ops.clinical(a, pid, d));
      await s.run((a) => ops.writeNote(a, pid, d));
      if (j % 8 === 0) await s.run((a) => ops.agenda(a, me, dayStart(0), dayStart(1)));
      // A colleague's patient now and then (a question from a colleague, a shared case).
      if (j % 10 === 5) await s.run((a) => ops.openFile(a, (today[(j * 13) % today.length] === pid ? today[0] : pid)!, d));
      if (j % 10 === 7) {
        const other = (await sql<{ patient_id: string }>`select patient_id from drill_appointments where practitioner_user_id = ${d.practitioners[100 + j]!} limit 1`.execute(k.db.owner)).rows[0]!.patient_id;
        await s.run((a) => ops.openFile(a, other, d));
      }
      if (j % 15 === 3) await s.run((a) => ops.search(a, 'INCONNU', '1970-01-01', d));
      clock.advance(15 * MIN);
    }
    await s.run((a) => ops.agenda(a, me, dayStart(1), dayStart(2)));
  });

  // A secretary's day: the agendas of the practitioners they work for (today and tomorrow), 150
  // phone calls (search, file, booking; some new patients; some questions about an appointment),
  // a few look-ups with no booking.
  await day('busy_day', 'secretary', d.secretaries.slice(10, 15).map((s) => k.user(s)), async (s, ops, clock, i) => {
    const me = d.secretaries[10 + i]!;
    const mine = d.assignments.get(me) ?? [];
    for (const dayOffset of [0, 1]) {
      for (const p of mine) {
        await s.run((a) => ops.agenda(a, p, dayStart(dayOffset), dayStart(dayOffset + 1)));
      }
    }
    const panel = (await sql<{ id: string; birth_name: string; birth_date: string }>`
      select p.id, p.birth_name, p.birth_date from drill_patient_names p
      where p.id in (select patient_id from drill_appointments where practitioner_user_id = any(${mine}::uuid[]) and start_at < ${dayStart(-1)})
      limit 200`.execute(k.db.owner)).rows;
    for (let call = 0; call < 150 && clock.t < endOfDay; call++) {
      const who = panel[(call * 37 + i) % panel.length]!;
      if (call % 5 === 4) {
        // A new patient: the search misses, the file is created and the slot booked.
        await s.run((a) => ops.search(a, `NOUVEAU${call}`, '1990-01-01', d));
        await s.run((a) => ops.book(a, who.id, d));
      } else if (call % 7 === 3) {
        // A question about an existing appointment (near window): file only.
        const near = (await sql<{ patient_id: string }>`select patient_id from drill_appointments where practitioner_user_id = any(${mine}::uuid[]) and start_at >= ${dayStart(0)} and start_at < ${dayStart(3)} offset ${call} limit 1`.execute(k.db.owner)).rows[0];
        if (near) await s.run((a) => ops.openFile(a, near.patient_id, d));
      } else {
        const found = await s.run((a) => ops.search(a, who.birth_name, who.birth_date, d));
        await s.run((a) => ops.openFile(a, who.id, d));
        if (call % 9 !== 8 && found.status === 'ok') await s.run((a) => ops.book(a, who.id, d));
      }
      clock.advance(4 * MIN);
    }
  });

  // A security officer's day: alert reviews and an incident report; the guard never meters it.
  await day('busy_day', 'security_officer', d.officers.slice(0, 2).map((o) => k.user(o)), async (s, _ops, clock) => {
    const { guard } = k.makeWorld(clock, d);
    for (let r = 0; r < 20; r++) {
      await s.run(async (a) => {
        await guard.security.listAlerts(a, d.establishmentId, { status: 'all', limit: 50 });
        return { status: 'ok', patients: [] };
      });
      clock.advance(30 * MIN);
    }
  });

  // An integration key's day: the whole establishment's agenda for today and tomorrow, every hour.
  const syncKey: Actor = { kind: 'api_key', apiKeyId: '0190b000-0000-7000-8000-00000000d002', establishmentId: d.establishmentId, scopes: ['agenda:read'] };
  await day('busy_day', 'api_key', [syncKey], async (s, ops, clock) => {
    while (clock.t < endOfDay && !s.contained) {
      for (const dayOffset of [0, 1]) {
        for (let offset = 0; !s.contained; offset += 50) {
          const r = await s.run((a) => ops.agenda(a, null, dayStart(dayOffset), dayStart(dayOffset + 1), offset));
          if (r.patients.length === 0) break;
        }
      }
      clock.advance(60 * MIN);
    }
  });
}
