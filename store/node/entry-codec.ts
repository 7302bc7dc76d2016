import { pack, unpack } from 'msgpackr';
import type { AuthCommand } from '../auth/types.ts';
import type { KvCommand } from '../kv/types.ts';
import type { ConfChange } from '../raft/types.ts';
import type { Member } from './types.ts';
import { readKnownProposal } from './proposal-reader.ts';

/** A client write as a raft entry: the proposer's request id and the command. */
export interface ProposalEnvelope {
  /** `<member id hex>.<process incarnation>.<counter>`: lets the proposing member find its waiting request. */
  id: string;
  cmd: KvCommand | PublishCommand | AuthCommand;
  /** The raft term in which the proposer sent this copy; applied only in an entry of that term (see ProposalEpochs). Absent in entries written before epochs. */
  epoch?: number;
}

/** A member announces its name and client URLs to the cluster (etcd's "publish"). */
export interface PublishCommand {
  op: 'publish';
  memberId: number;
  name: string;
  clientURLs: string[];
}

/** What a membership change entry carries besides raft's own fields. */
export interface ConfChangeContext {
  requestId: string;
  member?: Member;
}

export function encodeProposal(p: ProposalEnvelope): Uint8Array {
  return pack(p);
}

export function decodeProposal(data: Uint8Array): ProposalEnvelope {
  return (readKnownProposal(data) ?? unpack(data)) as ProposalEnvelope;
}

export function decodeConfChange(data: Uint8Array): ConfChange & { context?: ConfChangeContext } {
  return JSON.parse(new TextDecoder().decode(data)) as ConfChange & { context?: ConfChangeContext };
}
