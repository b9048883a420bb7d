// Request and response schemas of the identity routes (TypeBox: validation and OpenAPI at once).
// Bodies refuse unknown fields (no mass assignment, ASVS 15.3.3).
import { Type, type Static } from 'typebox';
import { MAX_PASSWORD_LENGTH } from './password-policy.js';

const strict = { additionalProperties: false } as const;
const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 });
const Uuid = Type.String({ format: 'uuid' });
const Token = Type.String({ minLength: 20, maxLength: 200 });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Role = Type.Union([Type.Literal('practitioner'), Type.Literal('secretary'), Type.Literal('admin'), Type.Literal('security_officer')]);
const Instant = Type.String({ format: 'date-time' });

/** A WebAuthn response as the browser serialises it (checked by @simplewebauthn/server, not here). */
const WebAuthnResponse = Type.Object(
  { id: Type.String({ maxLength: 1400 }), rawId: Type.String({ maxLength: 1400 }), type: Type.String({ maxLength: 40 }), response: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: true },
);
const WebAuthnOptions = Type.Object({}, { additionalProperties: true, description: 'PublicKeyCredential options JSON, for @simplewebauthn/browser' });

export const SignupBody = Type.Object(
  { email: Email, password: Password, firstName: Name, lastName: Name, birthDate: Type.String({ format: 'date' }), phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$' })) },
  strict,
);
export type SignupBody = Static<typeof SignupBody>;
export const StatusResponse = Type.Object({ status: Type.String() });
export const TokenBody = Type.Object({ token: Token }, strict);
export const LoginBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Password }, strict);
export const LoginResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('mfa_required'), Type.Literal('mfa_enrolment_required')]),
  challengeId: Type.Optional(Uuid),
  methods: Type.Optional(Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('webauthn'), Type.Literal('recovery_code')]))),
});
export const LoginMfaBody = Type.Object({ challengeId: Uuid, code: Type.String({ minLength: 6, maxLength: 40 }) }, strict);
export const ChallengeOptionsBody = Type.Object({ challengeId: Type.Optional(Uuid) }, strict);
export const ChallengeOptionsResponse = Type.Object({ challengeId: Uuid, options: WebAuthnOptions });
export const WebAuthnLoginBody = Type.Object({ challengeId: Uuid, response: WebAuthnResponse }, strict);
export const WebAuthnRegisterBody = Type.Object({ challengeId: Uuid, response: WebAuthnResponse, name: Type.Optional(Type.String({ maxLength: 60 })) }, strict);
export const EnrolResponse = Type.Object({ status: Type.Literal('ok'), id: Type.Optional(Uuid), recoveryCodes: Type.Optional(Type.Array(Type.String())) });
export const TotpSetupResponse = Type.Object({ secret: Type.String(), otpauthUrl: Type.String() });
export const CodeBody = Type.Object({ code: Type.String({ minLength: 6, maxLength: 40 }) }, strict);
export const RecoveryCodesResponse = Type.Object({ recoveryCodes: Type.Array(Type.String()) });
export const StepUpBody = Type.Object({ code: Type.Optional(Type.String({ minLength: 6, maxLength: 10 })), challengeId: Type.Optional(Uuid), response: Type.Optional(WebAuthnResponse) }, strict);
export const StepUpResponse = Type.Object({ status: Type.Literal('ok'), validUntil: Instant });

export const MeResponse = Type.Object({
  user: Type.Object({
    id: Uuid,
    email: Type.String(),
    firstName: Type.String(),
    lastName: Type.String(),
    emailVerified: Type.Boolean(),
    memberships: Type.Array(Type.Object({ establishmentId: Uuid, role: Role })),
  }),
  csrfToken: Type.String(),
  session: Type.Object({ id: Uuid, mfaState: Type.String(), stepUpUntil: Type.Union([Instant, Type.Null()]) }),
  secondFactors: Type.Object({ totp: Type.Boolean(), passkeys: Type.Integer(), recoveryCodesLeft: Type.Integer(), passkeyRequired: Type.Boolean() }),
});
export const SessionsResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Uuid,
      createdAt: Instant,
      lastSeenAt: Instant,
      ip: Type.Union([Type.String(), Type.Null()]),
      userAgent: Type.Union([Type.String(), Type.Null()]),
      current: Type.Boolean(),
      newDevice: Type.Boolean(),
      newIp: Type.Boolean(),
    }),
  ),
});
export const IdParams = Type.Object({ id: Uuid }, strict);
export const ForgotBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }, strict);
export const ResetBody = Type.Object({ token: Token, password: Password }, strict);
export const ChangePasswordBody = Type.Object({ currentPassword: Password, newPassword: Password }, strict);
export const AcceptInvitationBody = Type.Object({ token: Token, password: Type.Optional(Password) }, strict);
export const AcceptInvitationResponse = Type.Object({ status: Type.Literal('ok'), establishmentId: Uuid, role: Role, newAccount: Type.Boolean() });
export const ApiKeyWhoAmI = Type.Object({ id: Uuid, establishmentId: Uuid, scopes: Type.Array(Type.String()) });

// --- establishment staff administration
export const EstablishmentParams = Type.Object({ eid: Uuid }, strict);
export const MemberParams = Type.Object({ eid: Uuid, uid: Uuid }, strict);
export const EstablishmentItemParams = Type.Object({ eid: Uuid, id: Uuid }, strict);
export const InviteBody = Type.Object({ email: Email, firstName: Name, lastName: Name, role: Role }, strict);
export const InviteResponse = Type.Object({ invitationId: Uuid, status: Type.Union([Type.Literal('sent'), Type.Literal('pending_approval')]), approvalId: Type.Optional(Uuid) });
export const RoleBody = Type.Object({ role: Role }, strict);
export const PendingResponse = Type.Object({ status: Type.String(), approvalId: Type.Optional(Uuid) });
export const MembersResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      userId: Uuid,
      email: Type.String(),
      firstName: Type.String(),
      lastName: Type.String(),
      role: Role,
      disabled: Type.Boolean(),
      secondFactors: Type.Object({ totp: Type.Boolean(), passkeys: Type.Integer() }),
    }),
  ),
});
export const ApprovalsResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Uuid,
      kind: Type.String(),
      targetUserId: Type.Union([Uuid, Type.Null()]),
      invitationId: Type.Union([Uuid, Type.Null()]),
      role: Type.Union([Role, Type.Null()]),
      requestedBy: Uuid,
      createdAt: Instant,
      expiresAt: Instant,
    }),
  ),
});
const Scope = Type.Object({ scope: Type.String({ maxLength: 60 }), practitionerIds: Type.Optional(Type.Array(Uuid, { maxItems: 200 })) }, strict);
export const ApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: 20 }),
    allowedIps: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 50 })),
    expiresAt: Type.Optional(Instant),
  },
  strict,
);
const ApiKeyScopeOut = Type.Object({ scope: Type.String(), practitionerIds: Type.Optional(Type.Array(Type.String())) });
export const ApiKeyCreated = Type.Object({
  id: Uuid,
  key: Type.String({ description: 'Shown once: only its hash is kept.' }),
  name: Type.String(),
  scopes: Type.Array(ApiKeyScopeOut),
  allowedIps: Type.Array(Type.String()),
  expiresAt: Type.Union([Instant, Type.Null()]),
});
export const ApiKeysResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Uuid,
      name: Type.String(),
      prefix: Type.String(),
      scopes: Type.Array(ApiKeyScopeOut),
      allowedIps: Type.Array(Type.String()),
      expiresAt: Type.Union([Instant, Type.Null()]),
      createdAt: Instant,
      lastUsedAt: Type.Union([Instant, Type.Null()]),
      revoked: Type.Boolean(),
    }),
  ),
});
export const RevokedResponse = Type.Object({ revoked: Type.Integer() });
