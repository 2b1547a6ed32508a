/**
 * Cloud desktop signalling: offer/answer/ICE/bye frames relayed between a viewer and a desktop
 * instance of the same workspace only. A viewer addresses the desktop by instance id; the desktop
 * answers the viewer's connection id. Every member may watch (the Viewer role included); the frame
 * the desktop receives carries the sender's role, so the desktop takes input only from roles with
 * `agents.use`. The desktop side needs `agents.use`. A peer that is not connected, or not in the
 * sender's workspace, is `target_offline` (never revealing other workspaces).
 */
import { roleHas } from '../../protocol/workspace/common';
import type { ClientSignalFrame } from '../../protocol/workspace/frames';
import type { Connection } from './connection';
import type { Hub } from './hub';

export function relaySignal(hub: Hub, from: Connection, f: ClientSignalFrame): void {
  const ref = f.id ?? null;
  const ws = from.access.workspaceId;
  let target: Connection | undefined;
  if ('instanceId' in f.to) {
    const conns = hub.instanceConnections(ws, f.to.instanceId);
    target = conns[conns.length - 1];
  } else {
    const c = hub.connection(f.to.connectionId);
    target = c && c.ready && c.access.workspaceId === ws ? c : undefined;
  }
  // Not here: with several nodes the peer may sit on another one (a connection id held here in another workspace stays offline).
  const elsewhere = 'instanceId' in f.to || !hub.connection(f.to.connectionId);
  if ((!target || target.closed) && hub.remoteSignal && elsewhere) {
    hub.remoteSignal(from, f).catch(() => from.sendError('internal', 'the frame could not be relayed', ref));
    return;
  }
  if (!target || target.closed) return from.sendError('target_offline', 'that peer is not connected', ref);
  const fromDesktop = from.access.instanceKind === 'desktop';
  const toDesktop = target.access.instanceKind === 'desktop';
  if (fromDesktop === toDesktop) return from.sendError('forbidden', 'signalling runs between a viewer and a desktop instance', ref);
  const desktop = fromDesktop ? from : target;
  if (!roleHas(desktop.access.role, 'agents.use')) return from.sendError('forbidden', 'that cloud desktop may not serve viewers', ref);
  target.send({
    type: 'signal',
    sessionId: f.sessionId,
    kind: f.kind,
    from: { connectionId: from.id, memberId: from.access.memberId, instanceId: from.access.instanceId, role: from.access.role },
    payload: f.payload,
  });
}
