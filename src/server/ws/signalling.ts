/**
 * Cloud desktop signalling: offer/answer/ICE/bye frames relayed between a viewer and a desktop
 * instance of the same workspace only. A viewer addresses the desktop by instance id; the desktop
 * answers the viewer's connection id. Both sides need the `agents.use` permission; a peer that is not
 * connected, or not in the sender's workspace, is `target_offline` (never revealing other workspaces).
 */
import { roleHas } from '../../protocol/workspace/common';
import type { ClientSignalFrame } from '../../protocol/workspace/frames';
import type { Connection } from './connection';
import type { Hub } from './hub';

export function relaySignal(hub: Hub, from: Connection, f: ClientSignalFrame): void {
  const ref = f.id ?? null;
  if (!roleHas(from.access.role, 'agents.use')) return from.sendError('forbidden', `the ${from.access.role} role cannot open cloud desktops`, ref);
  const ws = from.access.workspaceId;
  let target: Connection | undefined;
  if ('instanceId' in f.to) {
    const conns = hub.instanceConnections(ws, f.to.instanceId);
    target = conns[conns.length - 1];
  } else {
    const c = hub.connection(f.to.connectionId);
    target = c && c.ready && c.access.workspaceId === ws ? c : undefined;
  }
  if (!target || target.closed) return from.sendError('target_offline', 'that peer is not connected', ref);
  const fromDesktop = from.access.instanceKind === 'desktop';
  const toDesktop = target.access.instanceKind === 'desktop';
  if (fromDesktop === toDesktop) return from.sendError('forbidden', 'signalling runs between a viewer and a desktop instance', ref);
  if (!roleHas(target.access.role, 'agents.use')) return from.sendError('forbidden', 'the peer may not use cloud desktops', ref);
  target.send({
    type: 'signal',
    sessionId: f.sessionId,
    kind: f.kind,
    from: { connectionId: from.id, memberId: from.access.memberId, instanceId: from.access.instanceId },
    payload: f.payload,
  });
}
