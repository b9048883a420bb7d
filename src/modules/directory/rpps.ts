// RPPS numbers (Répertoire partagé des professionnels de santé): 11 digits, the last one a Luhn
// check digit over the first ten.
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  // Walking from the right of the payload, every first digit is doubled (the check digit will
  // take the rightmost position).
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidRpps(value: string): boolean {
  if (!/^\d{11}$/.test(value)) return false;
  return luhnCheckDigit(value.slice(0, 10)) === Number(value[10]);
}

/** Completes a ten-digit payload into a valid RPPS number. */
export function rppsFromPayload(payload: string): string {
  if (!/^\d{10}$/.test(payload)) throw new RangeError('an RPPS payload has ten digits');
  return `${payload}${luhnCheckDigit(payload)}`;
}
