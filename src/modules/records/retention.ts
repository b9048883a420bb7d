// Legal retention of a medical record in a French health establishment (Code de la santé
// publique, art. R1112-7): 20 years after the last stay or consultation; when the patient was a
// minor, at least until their 28th birthday. (A death less than ten years after the last stay
// limits it to ten years after the death; that shortening is not applied automatically: the
// longer period is the safe side.) Pure: no I/O.

const addYears = (d: Date, years: number): Date => {
  const out = new Date(d.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
};

export function retentionEnd(input: { lastActivity: Date; birthDate: string | null }): Date {
  const twentyYears = addYears(input.lastActivity, 20);
  if (input.birthDate === null) return twentyYears;
  const twentyEighth = addYears(new Date(`${input.birthDate}T00:00:00Z`), 28);
  return twentyEighth > twentyYears ? twentyEighth : twentyYears;
}
