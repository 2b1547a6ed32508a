/** Builds every service over one context. */
import { AccessResolver } from './access';
import { Accounts } from './accounts';
import { AgentsConfig } from './agents';
import type { ServerContext } from './context';
import { EventLog } from './events';
import { Instances } from './instances';
import { Members } from './members';
import { Tasks } from './tasks';
import { Workspaces } from './workspaces';

export interface Services {
  ctx: ServerContext;
  access: AccessResolver;
  accounts: Accounts;
  workspaces: Workspaces;
  members: Members;
  instances: Instances;
  tasks: Tasks;
  agents: AgentsConfig;
  events: EventLog;
}

export function createServices(ctx: ServerContext): Services {
  const access = new AccessResolver(ctx);
  const accounts = new Accounts(ctx, access);
  const instances = new Instances(ctx);
  return {
    ctx,
    access,
    accounts,
    instances,
    workspaces: new Workspaces(ctx),
    members: new Members(ctx, accounts),
    tasks: new Tasks(ctx),
    agents: new AgentsConfig(ctx, instances),
    events: new EventLog(ctx),
  };
}
