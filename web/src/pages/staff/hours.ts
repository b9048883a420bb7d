// Weekly opening hours as staff type them: "09:00-12:00, 14:00-18:00" per day (local time).
const RANGE = /^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

export function hoursToText(ranges: Array<{ start: string; end: string }> | undefined): string {
  return (ranges ?? []).map((r) => `${r.start}-${r.end}`).join(', ');
}

export function textToHours(text: string): Array<{ start: string; end: string }> | undefined {
  const parts = text
    .split(',')
    .map((p) => p.replace(/\s/g, ''))
    .filter(Boolean);
  if (!parts.every((p) => RANGE.test(p))) return undefined;
  return parts.map((p) => {
    const [start, end] = p.split('-') as [string, string];
    return { start, end };
  });
}
