// The unlocked private key of the signed-in user, in memory only: never in storage, gone on
// reload or logout, and non-extractable (nothing in the page can export it).
let held: { userId: string; key: CryptoKey } | undefined;

export function holdPrivateKey(userId: string, key: CryptoKey): void {
  held = { userId, key };
}

export function heldPrivateKey(userId: string): CryptoKey | undefined {
  return held?.userId === userId ? held.key : undefined;
}

export function forgetPrivateKey(): void {
  held = undefined;
}
