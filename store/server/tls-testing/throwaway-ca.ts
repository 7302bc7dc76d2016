/**
 * Throwaway certificate authorities for TLS tests, made with the openssl CLI in a temp dir:
 * a CA, then server/client certificates it signs (SAN 127.0.0.1 and localhost).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestCa extends CertFiles {
  /** Issues a certificate with subject CN `cn`, usable as server and client certificate. */
  issue(cn: string): CertFiles;
  pem(): Buffer;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestCa(dir: string, name: string): TestCa {
  const key = join(dir, `${name}-ca.key`);
  const cert = join(dir, `${name}-ca.pem`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name} test CA`]);
  let serial = 1;
  return {
    cert,
    key,
    pem: () => readFileSync(cert),
    issue(cn: string): CertFiles {
      const base = join(dir, `${name}-${cn}-${serial++}`);
      const ext = `${base}.ext`;
      writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', cert, '-CAkey', key, '-CAcreateserial', '-out', `${base}.pem`, '-days', '2', '-extfile', ext]);
      return { cert: `${base}.pem`, key: `${base}.key` };
    },
  };
}
