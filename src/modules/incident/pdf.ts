// PDF versions of the incident drafts (the patients' letters, to print and post, and the CNIL
// notification), rendered from the same Markdown so the two never say different things. pdf-lib
// (pure JavaScript, no native code, the library the records module uses for prescriptions) with
// the standard Helvetica fonts: they encode WinAnsi, which holds every French letter (é, è, à, ç,
// œ, ’, «, —); any other character is drawn as "?" rather than dropped silently.
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { cnilNotification, patientLetter, type EstablishmentInfo, type Lang } from './drafts.js';
import type { Impact, PatientImpact } from './impact.js';

/** Who the letter is addressed to, when the sender knows it (merged at sending, never stored in drafts). */
export interface LetterRecipient {
  name: string;
  addressLines?: string[];
}

const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** Text the standard fonts can draw: NFC, controls as spaces, anything outside WinAnsi as "?". */
export function pdfSafe(text: string): string {
  return [...text.normalize('NFC')]
    .map((c) => {
      const code = c.codePointAt(0)!;
      if (code < 32 || (code >= 127 && code < 160)) return ' ';
      if (code === 0x202f) return ' ';
      return code < 256 || WIN_ANSI_EXTRA.has(c) ? c : '?';
    })
    .join('');
}

const PAGE: [number, number] = [595.28, 841.89]; // A4 in points
const MARGIN = 56;
const WIDTH = PAGE[0] - 2 * MARGIN;

class Writer {
  private page: PDFPage;
  private y: number;
  constructor(
    private readonly doc: PDFDocument,
    private readonly font: PDFFont,
    private readonly bold: PDFFont,
  ) {
    this.page = doc.addPage(PAGE);
    this.y = PAGE[1] - MARGIN;
  }

  /** Greedy wrapping; the first line may be narrower (a bold lead shares it). */
  private lines(text: string, font: PDFFont, size: number, firstWidth: number, width: number): string[] {
    const out: string[] = [];
    let line = '';
    for (const word of pdfSafe(text).split(/\s+/).filter((w) => w !== '')) {
      const next = line === '' ? word : `${line} ${word}`;
      if (line !== '' && font.widthOfTextAtSize(next, size) > (out.length === 0 ? firstWidth : width)) {
        out.push(line);
        line = word;
      } else line = next;
    }
    if (line !== '') out.push(line);
    return out;
  }

  /** A paragraph; `lead` is drawn in bold before the rest of the first line. */
  paragraph(text: string, opts: { size?: number; bold?: boolean; indent?: number; bullet?: boolean; lead?: string } = {}): void {
    const size = opts.size ?? 11;
    const indent = opts.indent ?? 0;
    const font = opts.bold ? this.bold : this.font;
    const lead = opts.lead ? pdfSafe(opts.lead) : '';
    const leadWidth = lead ? this.bold.widthOfTextAtSize(`${lead} `, size) : 0;
    const lines = this.lines(text, font, size, WIDTH - indent - leadWidth, WIDTH - indent);
    this.ensure(size);
    const black = rgb(0, 0, 0);
    if (opts.bullet) this.page.drawText('•', { x: MARGIN + indent - 10, y: this.y, size, font: this.font, color: black });
    if (lead) this.page.drawText(lead, { x: MARGIN + indent, y: this.y, size, font: this.bold, color: black });
    lines.forEach((line, i) => {
      if (i > 0) this.ensure(size);
      this.page.drawText(line, { x: MARGIN + indent + (i === 0 ? leadWidth : 0), y: this.y, size, font, color: black });
      this.y -= size * 1.4;
    });
    if (lines.length === 0) this.y -= size * 1.4;
  }

  gap(points = 6): void {
    this.y -= points;
  }

  private ensure(size: number): void {
    if (this.y - size < MARGIN) {
      this.page = this.doc.addPage(PAGE);
      this.y = PAGE[1] - MARGIN;
    }
  }
}

/**
 * Renders the subset of Markdown the drafts use: "# " and "## " headings, "- " bullets, "**lead**"
 * at the start of a line, tables (one line per row, cells separated by " — "), paragraphs.
 */
export async function markdownToPdf(markdown: string, meta: { title: string; lang: 'fr' | 'en'; recipient?: LetterRecipient; createdAt?: Date }): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(pdfSafe(meta.title));
  doc.setLanguage(meta.lang === 'fr' ? 'fr-FR' : 'en-GB');
  doc.setProducer('Hygie');
  doc.setCreator('Hygie');
  // A fixed date keeps a letter's bytes reproducible; the drafts carry their own dates.
  const at = meta.createdAt ?? new Date(0);
  doc.setCreationDate(at);
  doc.setModificationDate(at);
  const w = new Writer(doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold));
  if (meta.recipient) {
    w.paragraph(meta.recipient.name, { bold: true });
    for (const line of meta.recipient.addressLines ?? []) w.paragraph(line);
    w.gap(18);
  }
  const strip = (s: string) => s.replace(/\*\*/g, '');
  for (const raw of markdown.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      w.gap();
      continue;
    }
    if (line.startsWith('# ')) {
      w.paragraph(strip(line.slice(2)), { size: 15, bold: true });
      w.gap(4);
    } else if (line.startsWith('## ')) {
      w.gap(4);
      w.paragraph(strip(line.slice(3)), { size: 12.5, bold: true });
    } else if (/^\|[\s-|]+\|$/.test(line)) {
      continue;
    } else if (line.startsWith('|')) {
      const cells = line.split('|').slice(1, -1).map((c) => strip(c.trim()));
      w.paragraph(cells.join(' — '), { indent: 12 });
    } else if (line.startsWith('- ')) {
      w.paragraph(strip(line.slice(2)), { indent: 18, bullet: true });
    } else {
      const lead = /^\*\*(.+?)\*\*\s*(.*)$/.exec(line);
      if (lead) w.paragraph(strip(lead[2] ?? ''), { lead: lead[1]! });
      else w.paragraph(strip(line));
    }
  }
  return doc.save();
}

/** One patient's letter (GDPR art. 34) as a PDF: exactly the Markdown letter's content, for post. */
export function patientLetterPdf(impact: Impact, patient: PatientImpact, e: EstablishmentInfo, lang: Lang = 'fr', recipient?: LetterRecipient): Promise<Uint8Array> {
  const title = lang === 'fr' ? 'Information sur une violation de vos données personnelles' : 'Information about a breach of your personal data';
  return markdownToPdf(patientLetter(impact, patient, e, lang), { title, lang, createdAt: new Date(impact.detectedAt), ...(recipient ? { recipient } : {}) });
}

/** The CNIL notification draft (GDPR art. 33) as a PDF. */
export function cnilNotificationPdf(impact: Impact, e: EstablishmentInfo, lang: Lang = 'fr'): Promise<Uint8Array> {
  const title = lang === 'fr' ? 'Notification de violation de données personnelles (projet)' : 'Personal data breach notification (draft)';
  return markdownToPdf(cnilNotification(impact, e, lang), { title, lang, createdAt: new Date(impact.detectedAt) });
}
