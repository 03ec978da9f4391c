import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '@mesh/core';
import { parse as parseYaml } from 'yaml';
import { bearerTokenOf } from './bearer';
import { AuthTokensFileError, AuthUnauthenticatedError } from './errors';
import type { Authenticator, CallerIdentity } from './types';

/** One line of the tokens file: a bearer token and the pod/service account it stands for. */
export interface TokenEntry {
  readonly token: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName?: string;
  readonly nodeName?: string;
}

interface LoadedEntry {
  readonly digest: Buffer;
  readonly caller: CallerIdentity;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Parse the tokens file text (YAML or JSON; a list, or an object with a `tokens` list). */
export function parseTokensFile(text: string, path: string): TokenEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new AuthTokensFileError({ path, reason: `not YAML/JSON (${err instanceof Error ? err.message : String(err)})` }, { cause: err });
  }
  const list = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc['tokens']) ? doc['tokens'] : undefined;
  if (list === undefined) throw new AuthTokensFileError({ path, reason: 'top level is neither a list nor {tokens: [...]}' });
  return list.map((item, i) => toEntry(item, i, path));
}

function toEntry(item: unknown, index: number, path: string): TokenEntry {
  if (!isRecord(item)) throw new AuthTokensFileError({ path, reason: `entry ${index} is not an object` });
  const field = (name: string, required: boolean): string | undefined => {
    const v = item[name];
    if (v === undefined || v === null) {
      if (required) throw new AuthTokensFileError({ path, reason: `entry ${index} has no "${name}"` });
      return undefined;
    }
    if (typeof v !== 'string' || v === '') throw new AuthTokensFileError({ path, reason: `entry ${index}: "${name}" must be a non-empty string` });
    return v;
  };
  const podName = field('podName', false);
  const nodeName = field('nodeName', false);
  return {
    token: field('token', true) as string,
    namespace: field('namespace', true) as string,
    serviceAccount: field('serviceAccount', true) as string,
    ...(podName === undefined ? {} : { podName }),
    ...(nodeName === undefined ? {} : { nodeName }),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface TokenFileAuthenticatorOptions {
  path: string;
  logger?: Logger;
}

/**
 * Directory-mode stand-in for Kubernetes TokenReview: a file maps bearer tokens to callers (each node's
 * ztunnel gets its own token, with its nodeName). The file is re-read when its mtime or size changes, so
 * tokens can be added without restarting istiod; a broken edit keeps the previous entries. Tokens are
 * compared as SHA-256 digests with timingSafeEqual against every entry, so timing reveals neither which
 * entry matched nor how long the token is.
 */
export function tokenFileAuthenticator(options: TokenFileAuthenticatorOptions): Authenticator {
  let entries: LoadedEntry[] = [];
  let stamp = '';
  const load = (): void => {
    const st = statSync(options.path);
    const next = `${st.mtimeMs}/${st.size}/${st.ino}`;
    if (next === stamp) return;
    const parsed = parseTokensFile(readFileSync(options.path, 'utf8'), options.path);
    entries = parsed.map((e) => ({ digest: digest(e.token), caller: callerOf(e) }));
    stamp = next;
    options.logger?.info({ path: options.path, entries: entries.length }, 'loaded tokens file');
  };
  load(); // fail fast at start: a missing/broken file is a configuration error
  return async (call) => {
    try {
      load();
    } catch (err) {
      options.logger?.warn({ err, path: options.path }, 'tokens file unreadable; keeping the previous tokens');
    }
    const presented = digest(bearerTokenOf(call));
    let match: CallerIdentity | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, presented) && match === undefined) match = e.caller;
    if (match === undefined) throw new AuthUnauthenticatedError({ peer: call.peer, reason: 'the bearer token is not in the tokens file' });
    return match;
  };
}

function callerOf(e: TokenEntry): CallerIdentity {
  return {
    namespace: e.namespace,
    serviceAccount: e.serviceAccount,
    method: 'token-file',
    ...(e.podName === undefined ? {} : { podName: e.podName }),
    ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
  };
}
