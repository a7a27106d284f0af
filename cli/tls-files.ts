// The TLS flags made into the credentials' inputs. Kept apart from ./options.ts because
// checking a certificate loads gRPC, which printing --help should not.
import { checkTls, type Tls } from '../protocol/tls.js';
import type { TlsFlags } from './definitions/option.js';
import { UsageError } from './errors.js';

/** The three PEM files of mutual TLS, all or none. */
export function tlsFromFlags(flags: TlsFlags): Tls | undefined {
  const { tlsCa: ca, tlsCert: cert, tlsKey: key } = flags;
  const given = [ca, cert, key].filter((p) => p !== undefined).length;
  if (given === 0) return undefined;
  if (given < 3) throw new UsageError('--tls-ca, --tls-cert and --tls-key go together (mutual TLS)');
  try {
    return checkTls({ ca: ca!, cert: cert!, key: key! });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
