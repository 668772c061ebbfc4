/**
 * The SCRAM client messages as Kafka 4.x's server reads them: its grammar for client-first
 * (GS2 header "n," only, optional authzid, an ignored reserved `m=`, an ASCII user name, a
 * printable nonce, `,name=value` extensions) and client-final (`c=`, `r=`, extensions, `p=`
 * last), and the parts of each it puts in the signed auth message: the client-first-bare
 * rebuilt as `n=…,r=…` plus extensions (without `m=`), and the client-final without proof
 * rebuilt as `c=…,r=…` (without extensions).
 *
 * @module
 */

import { decodeBase64 } from "../sasl/base64.ts";
import { AuthenticationError } from "../sasl/mechanism.ts";
import { isPrintable, unescapeSaslName } from "../sasl/scram_message.ts";

/** A user name: ASCII without `,` and `=`, or the escapes `=2C` and `=3D`. */
const SASLNAME = "(?:[\\x01-\\x2b\\x2d-\\x3c\\x3e-\\x7f]|=2C|=3D)+";
const VALUE = "[\\x01-\\x2b\\x2d-\\x7f]+";
const PRINTABLE = "[\\x21-\\x2b\\x2d-\\x7e]+";
const EXTENSIONS = `((?:,[A-Za-z]+=${VALUE})*)`;

const CLIENT_FIRST = new RegExp(
  `^n,(?:a=(${SASLNAME}))?,(?:m=${VALUE},)?n=(${SASLNAME}),r=(${PRINTABLE})${EXTENSIONS}$`,
);
const CLIENT_FINAL = new RegExp(`^c=([^,]*),r=([^,]*)${EXTENSIONS},p=([^,]*)$`);

/** A client-first message as Kafka reads it. */
export interface ClientFirst {
  /** The user name, unescaped. */
  readonly user: string;
  /** The authorization id, unescaped, when one was given. */
  readonly authorizationId: string | undefined;
  /** The client nonce. */
  readonly nonce: string;
  /** The extensions, e.g. `tokenauth` → `true`. */
  readonly extensions: ReadonlyMap<string, string>;
  /** The client-first-bare Kafka signs: `n=<name>,r=<nonce>` and the extensions. */
  readonly bare: string;
}

/** A client-final message as Kafka reads it. */
export interface ClientFinal {
  /** The nonce. */
  readonly nonce: string;
  /** The client proof. */
  readonly proof: Uint8Array;
  /** The client-final-without-proof Kafka signs: `c=<binding>,r=<nonce>`. */
  readonly withoutProof: string;
}

function refuse(what: string, problem: string): AuthenticationError {
  return new AuthenticationError(`Authentication failed: ${what} ${problem}`);
}

function extensionsOf(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(",").slice(1)) {
    const at = part.indexOf("=");
    map.set(part.slice(0, at), part.slice(at + 1));
  }
  return map;
}

/** Says which part of a client-first message breaks the grammar. */
function firstProblem(text: string): string {
  if (!/^n,(?:a=[^,]*)?,/.test(text)) {
    return 'has an invalid GS2 header: Kafka accepts only "n," (no channel binding)';
  }
  const parts = text.replace(/^n,(?:a=[^,]*)?,/, "").split(",");
  const user = parts.find((p) => p.startsWith("n="));
  const nonce = parts.find((p) => p.startsWith("r="));
  if (user === undefined) return "is missing the n= attribute";
  if (nonce === undefined) return "is missing the r= attribute";
  if (!new RegExp(`^${SASLNAME}$`).test(user.slice(2))) return "has an invalid user name";
  if (!isPrintable(nonce.slice(2))) return "has an invalid nonce";
  return "is malformed: expected n,[a=authzid],[m=...,]n=user,r=nonce[,name=value]...";
}

/**
 * Reads a client-first message.
 *
 * @param text The message.
 * @param what Names it for errors.
 * @returns Its fields.
 * @throws {AuthenticationError} When Kafka's grammar refuses it.
 */
export function parseClientFirst(text: string, what: string): ClientFirst {
  const m = CLIENT_FIRST.exec(text);
  if (m === null) throw refuse(what, firstProblem(text));
  const [, authzid, name, nonce, extensions] = m;
  const user = unescapeSaslName(name);
  if (user === null) throw refuse(what, "has an invalid user name");
  return {
    user,
    authorizationId: authzid === undefined ? undefined : unescapeSaslName(authzid) ?? undefined,
    nonce,
    extensions: extensionsOf(extensions),
    bare: `n=${name},r=${nonce}${extensions}`,
  };
}

/**
 * Reads a client-final message.
 *
 * @param text The message.
 * @param what Names it for errors.
 * @returns Its nonce, proof and the part Kafka signs.
 * @throws {AuthenticationError} When Kafka's grammar refuses it.
 */
export function parseClientFinal(text: string, what: string): ClientFinal {
  const m = CLIENT_FINAL.exec(text);
  if (m === null) {
    if (!text.startsWith("c=")) throw refuse(what, "is missing the c= attribute");
    if (!text.includes(",p=")) throw refuse(what, "is missing the p= attribute");
    throw refuse(what, "must end with a base64 client proof (p=)");
  }
  const [, binding, nonce, , proofText] = m;
  // Kafka checks only that c= is base64: it supports no channel binding, and the proof covers
  // whatever c= says.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(binding) || decodeBase64(binding) === null) {
    throw refuse(what, "channel binding (c=) is not base64");
  }
  if (!isPrintable(nonce)) throw refuse(what, "has an invalid nonce");
  const proof = /^[A-Za-z0-9+/]+={0,2}$/.test(proofText) ? decodeBase64(proofText) : null;
  if (proof === null) throw refuse(what, "must end with a base64 client proof (p=)");
  return { nonce, proof, withoutProof: `c=${binding},r=${nonce}` };
}
