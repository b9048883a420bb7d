import { Type } from 'typebox';

export const IncidentEstablishmentParams = Type.Object({ eid: Type.String({ format: 'uuid' }) });
export const IncidentParams = Type.Object({ eid: Type.String({ format: 'uuid' }), id: Type.String({ format: 'uuid' }) });
export const LetterParams = Type.Object({ eid: Type.String({ format: 'uuid' }), id: Type.String({ format: 'uuid' }), patientId: Type.String({ format: 'uuid' }) });
/** A PDF file (application/pdf). */
export const PdfFile = Type.String({ format: 'binary' });

export const OpenIncidentBody = Type.Object(
  {
    actorUserId: Type.Optional(Type.String({ format: 'uuid' })),
    apiKeyId: Type.Optional(Type.String({ format: 'uuid' })),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export const LangQuery = Type.Object({ lang: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) }, { additionalProperties: false });
export const LettersQuery = Type.Object(
  {
    lang: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    cursor: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
);

export const RecordEventBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('cnil_notified'), Type.Literal('complaint_filed'), Type.Literal('patients_notified'), Type.Literal('note')]),
    at: Type.Optional(Type.String({ format: 'date-time' })),
    reference: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const Category = Type.String();
export const IncidentResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  establishmentId: Type.String({ format: 'uuid' }),
  actor: Type.Object({ kind: Type.String(), userId: Type.Optional(Type.String()), apiKeyId: Type.Optional(Type.String()) }),
  window: Type.Object({ from: Type.String(), to: Type.String() }),
  patients: Type.Array(Type.Object({ patientId: Type.String(), categories: Type.Array(Category), accesses: Type.Integer(), firstAt: Type.String(), lastAt: Type.String() })),
  byCategory: Type.Array(Type.Object({ category: Category, patients: Type.Integer(), accesses: Type.Integer() })),
  totals: Type.Object({ patients: Type.Integer(), accesses: Type.Integer(), refused: Type.Integer(), refusedAfterContainment: Type.Integer() }),
  containments: Type.Array(Type.Object({ containedAt: Type.String(), releasedAt: Type.Union([Type.String(), Type.Null()]), signals: Type.Array(Type.String()) })),
  detectedAt: Type.String(),
  notificationDeadline: Type.String(),
  timeline: Type.Array(Type.Object({ at: Type.String(), kind: Type.String(), detail: Type.Optional(Type.String()) })),
  clock: Type.Object({ hours: Type.Integer(), deadline: Type.String(), cnilNotifiedAt: Type.Union([Type.String(), Type.Null()]), overdue: Type.Boolean() }),
});
export const MarkdownResponse = Type.Object({ lang: Type.String(), markdown: Type.String() });
export const LettersResponse = Type.Object({
  items: Type.Array(Type.Object({ patientId: Type.String(), lang: Type.String(), markdown: Type.String() })),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const NoticeParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const NoticeSummaryDto = {
  id: Type.String({ format: 'uuid' }),
  establishment: Type.String(),
  lang: Type.Union([Type.Literal('fr'), Type.Literal('en')]),
  title: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
};
export const NoticesResponse = Type.Object({ items: Type.Array(Type.Object(NoticeSummaryDto)) });
/** The letter as Markdown text: clients render it as text (escaped), never as raw HTML. */
export const NoticeResponse = Type.Object({ ...NoticeSummaryDto, markdown: Type.String() });
