// The hub's fleet, token, desired-state and model-management routes, on top of HubClient.call.
import type { Command } from 'commander';
import { resolveGlobalOptions, type CliIo } from './cli-context.js';
import type { MaintenanceWindow } from '../fleet/domain/maintenance-window-shape.js';
import { HubClient } from './hub-client.js';
import type {
  CreateDeviceBody,
  CreatedToken,
  CreateGroupBody,
  CreateTokenBody,
  DesiredState,
  Device,
  DevicePage,
  DeviceWithCredentials,
  Group,
  GroupPage,
  ListDevicesQuery,
  ModelVersion,
  Token,
  UpdateDeviceBody,
  UpdateModelBody,
} from './hub-api.js';

/** The global options of `command` and a client for the hub they name. */
export function connect(command: Command, io: CliIo) {
  const globals = resolveGlobalOptions(command, io.env);
  return { globals, hub: new HubClient({ baseUrl: globals.url, token: globals.token }) };
}

const path = (base: string, ...ids: string[]) =>
  [base, ...ids.map((id) => encodeURIComponent(id))].join('/');
/** The `serve_as` query of the desired-state routes; none for `default`. */
const named = (serveAs: string | undefined) =>
  serveAs === undefined ? undefined : { serve_as: serveAs };
const GROUPS = '/api/v1/groups';
const DEVICES = '/api/v1/devices';
const TOKENS = '/api/v1/tokens';
const MODELS = '/api/v1/models';

export const fleetApi = {
  listGroups: (hub: HubClient, environment?: string) =>
    hub.call<GroupPage>('GET', GROUPS, { query: { environment } }),
  createGroup: (hub: HubClient, body: CreateGroupBody) =>
    hub.call<Group>('POST', GROUPS, { json: body }),
  getGroup: (hub: HubClient, name: string) => hub.call<Group>('GET', path(GROUPS, name)),
  deleteGroup: (hub: HubClient, name: string) => hub.call<void>('DELETE', path(GROUPS, name)),
  setGroupWindows: (hub: HubClient, name: string, windows: MaintenanceWindow[]) =>
    hub.call<Group>('PUT', `${path(GROUPS, name)}/maintenance-windows`, { json: { windows } }),

  listDevices: (hub: HubClient, query: ListDevicesQuery) =>
    hub.call<DevicePage>('GET', DEVICES, {
      query: {
        group: query.group,
        environment: query.environment,
        online: query.online === undefined ? undefined : String(query.online),
        limit: query.limit,
        offset: query.offset,
      },
    }),
  createDevice: (hub: HubClient, body: CreateDeviceBody) =>
    hub.call<DeviceWithCredentials>('POST', DEVICES, { json: body }),
  getDevice: (hub: HubClient, id: string) => hub.call<Device>('GET', path(DEVICES, id)),
  updateDevice: (hub: HubClient, id: string, body: UpdateDeviceBody) =>
    hub.call<Device>('PATCH', path(DEVICES, id), { json: body }),
  rotateDevice: (hub: HubClient, id: string) =>
    hub.call<DeviceWithCredentials>('POST', `${path(DEVICES, id)}/rotate-credentials`),
  deleteDevice: (hub: HubClient, id: string) => hub.call<void>('DELETE', path(DEVICES, id)),

  // `serveAs`: a named model's desired state (docs/protocol.md 6.6); absent: `default`.
  groupDesired: (hub: HubClient, name: string, serveAs?: string) =>
    hub.call<DesiredState>('GET', `${path(GROUPS, name)}/desired`, { query: named(serveAs) }),
  pinGroup: (hub: HubClient, name: string, model: string, serveAs?: string) =>
    hub.call<DesiredState>('PUT', `${path(GROUPS, name)}/desired`, {
      json: { model_id: model },
      query: named(serveAs),
    }),
  deviceDesired: (hub: HubClient, id: string, serveAs?: string) =>
    hub.call<DesiredState>('GET', `${path(DEVICES, id)}/desired`, { query: named(serveAs) }),
  pinDevice: (hub: HubClient, id: string, model: string, serveAs?: string) =>
    hub.call<DesiredState>('PUT', `${path(DEVICES, id)}/desired`, {
      json: { model_id: model },
      query: named(serveAs),
    }),
  unpinDevice: (hub: HubClient, id: string, serveAs?: string) =>
    hub.call<void>('DELETE', `${path(DEVICES, id)}/desired`, { query: named(serveAs) }),

  listTokens: (hub: HubClient) => hub.call<Token[]>('GET', TOKENS),
  createToken: (hub: HubClient, body: CreateTokenBody) =>
    hub.call<CreatedToken>('POST', TOKENS, { json: body }),
  deleteToken: (hub: HubClient, id: string) => hub.call<void>('DELETE', path(TOKENS, id)),

  updateModel: (hub: HubClient, ref: string, body: UpdateModelBody) =>
    hub.call<ModelVersion>('PATCH', path(MODELS, ref), { json: body }),
  deleteModel: (hub: HubClient, ref: string) => hub.call<void>('DELETE', path(MODELS, ref)),
};
