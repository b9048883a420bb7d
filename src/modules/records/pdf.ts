// Printable prescriptions (ordonnances) and certificates, made on request and never stored: the
// prescriber's name and RPPS number, the patient's identity, the date, and the content.
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export interface PdfPrescriber {
  name: string;
  rpps: string;
  specialty?: string | null;
}

export interface PdfPatient {
  name: string;
  birthDate: string;
}

export interface MedicationLine {
  medication: string;
  dose: string;
  frequency: string;
  duration: string;
  quantity: string;
  renewals: number;
  instructions?: string;
}

// The standard PDF fonts speak WinAnsi: French text is fine; anything else becomes "?".
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
function safe(text: string): string {
  return [...text.normalize('NFC')]
    .map((c) => {
      const code = c.charCodeAt(0);
      // Control characters cannot be drawn; newlines were split on before.
      if (code < 32 || (code >= 127 && code < 160)) return ' ';
      return code < 256 || WIN_ANSI_EXTRA.has(c) ? c : '?';
    })
    .join('');
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\s*\n\s*/).map(safe)) {
    let line = '';
    for (const word of paragraph.split(/\s+/)) {
      const next = line === '' ? word : `${line} ${word}`;
      if (font.widthOfTextAtSize(next, size) > width && line !== '') {
        out.push(line);
        line = word;
      } else line = next;
    }
    out.push(line);
  }
  return out;
}

class Writer {
  y = 800;
  constructor(
    private page: PDFPage,
    private readonly doc: PDFDocument,
    private readonly font: PDFFont,
    private readonly bold: PDFFont,
  ) {}
  text(text: string, options: { size?: number; bold?: boolean; indent?: number } = {}): void {
    const size = options.size ?? 11;
    const font = options.bold ? this.bold : this.font;
    for (const line of wrap(text, font, size, 495 - (options.indent ?? 0))) {
      if (this.y < 60) {
        this.page = this.doc.addPage([595, 842]);
        this.y = 800;
      }
      this.page.drawText(line, { x: 50 + (options.indent ?? 0), y: this.y, size, font, color: rgb(0, 0, 0) });
      this.y -= size + 5;
    }
  }
  gap(n = 10): void {
    this.y -= n;
  }
}

async function document(title: string, prescriber: PdfPrescriber, patient: PdfPatient, issuedAt: Date, body: (w: Writer) => void): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  doc.setProducer('Hygie');
  doc.setCreationDate(issuedAt);
  const w = new Writer(doc.addPage([595, 842]), doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold));
  w.text(prescriber.name, { size: 13, bold: true });
  if (prescriber.specialty) w.text(prescriber.specialty);
  w.text(`RPPS ${prescriber.rpps}`);
  w.gap(20);
  w.text(title, { size: 16, bold: true });
  w.text(`Le ${issuedAt.toISOString().slice(0, 10).split('-').reverse().join('/')}`);
  w.gap();
  w.text(`Patient : ${patient.name}, né(e) le ${patient.birthDate.split('-').reverse().join('/')}`);
  w.gap(20);
  body(w);
  w.gap(30);
  w.text(`Dr ${prescriber.name} (RPPS ${prescriber.rpps})`, { bold: true });
  return Buffer.from(await doc.save());
}

export function prescriptionPdf(input: { prescriber: PdfPrescriber; patient: PdfPatient; issuedAt: Date; lines: MedicationLine[]; notes?: string }): Promise<Buffer> {
  return document('Ordonnance', input.prescriber, input.patient, input.issuedAt, (w) => {
    input.lines.forEach((l, i) => {
      w.text(`${i + 1}. ${l.medication}`, { bold: true });
      w.text(`${l.dose}, ${l.frequency}, pendant ${l.duration}. Quantité : ${l.quantity}.`, { indent: 15 });
      w.text(l.renewals > 0 ? `À renouveler ${l.renewals} fois.` : 'Non renouvelable.', { indent: 15 });
      if (l.instructions) w.text(l.instructions, { indent: 15 });
      w.gap(6);
    });
    if (input.notes) w.text(input.notes);
  });
}

export function certificatePdf(input: { prescriber: PdfPrescriber; patient: PdfPatient; issuedAt: Date; title: string; text: string }): Promise<Buffer> {
  return document(input.title, input.prescriber, input.patient, input.issuedAt, (w) => {
    w.text(`Je soussigné(e), Dr ${input.prescriber.name}, certifie :`);
    w.gap(6);
    w.text(input.text);
  });
}
