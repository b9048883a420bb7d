// `hygie incident report`: for an actor (user by e-mail, or API key) and a window, in every
// establishment whose audit log holds its events: the impact report (JSON), the CNIL draft and one
// letter per affected patient (Markdown and PDF), written under --out (mode 0600: patient ids are personal data).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../platform/db/database.js';
import { findAccountIdByEmail } from '../identity/index.js';
import type { Vault } from '../vault/index.js';
import { createIncidentStore } from './store.js';
import { createIncidentService } from './service.js';
import { cnilNotification, patientLetter, type Lang } from './drafts.js';
import { cnilNotificationPdf, patientLetterPdf } from './pdf.js';
import type { Impact, IncidentActor } from './impact.js';

export async function writeIncidentReport(
  db: Database,
  vault: Vault,
  q: { actorEmail?: string | undefined; apiKeyId?: string | undefined; from: Date; to: Date; out?: string | undefined; lang?: Lang },
): Promise<{ reports: Impact[]; files: string[] }> {
  let actor: IncidentActor;
  if (q.actorEmail) {
    const email = q.actorEmail;
    // Found by the e-mail's blind index: the database holds no e-mail in clear.
    const userId = await db.withPlatform((tx) => findAccountIdByEmail(tx, vault, email));
    if (!userId) throw new Error('No account with that e-mail');
    actor = { kind: 'user', userId };
  } else if (q.apiKeyId) actor = { kind: 'api_key', apiKeyId: q.apiKeyId };
  else throw new Error('Give --actor EMAIL or --api-key ID');
  const store = createIncidentStore();
  const service = createIncidentService({ db, store });
  const establishments = await store.establishmentsOfActor(db.owner, actor, q.from, q.to);
  const reports: Impact[] = [];
  const files: string[] = [];
  const lang = q.lang ?? 'fr';
  for (const establishmentId of establishments) {
    const { impact, est } = await db.withTenant(establishmentId, async (tx) => ({
      impact: await service.impactIn(tx, establishmentId, actor, q.from, q.to),
      est: await store.establishment(tx, establishmentId),
    }));
    reports.push(impact);
    if (!q.out || !est) continue;
    const dir = path.join(q.out, establishmentId);
    await mkdir(path.join(dir, 'letters'), { recursive: true, mode: 0o700 });
    const write = async (name: string, content: string | Uint8Array) => {
      const file = path.join(dir, name);
      await writeFile(file, content, { mode: 0o600 });
      files.push(file);
    };
    await write('report.json', `${JSON.stringify(impact, null, 2)}\n`);
    await write(`cnil-notification.${lang}.md`, cnilNotification(impact, est, lang));
    await write(`cnil-notification.${lang}.pdf`, await cnilNotificationPdf(impact, est, lang));
    // One letter per patient, as Markdown and as PDF (to print and post).
    for (const p of impact.patients) {
      await write(path.join('letters', `${p.patientId}.${lang}.md`), patientLetter(impact, p, est, lang));
      await write(path.join('letters', `${p.patientId}.${lang}.pdf`), await patientLetterPdf(impact, p, est, lang));
    }
  }
  return { reports, files };
}
