import { Module } from '@nestjs/common';
import { DEVICE_AUTHENTICATOR } from '../auth/device-authenticator.js';
import { FleetDeleteHooks } from './delete-hooks.js';
import { DeviceCredentials } from './device-credentials.js';
import { DeviceStateWriter } from './device-state-writer.js';
import { DevicesController } from './devices.controller.js';
import { FleetEvents } from './fleet-events.js';
import { FleetService } from './fleet.service.js';
import { GroupsService } from './groups.service.js';
import { GroupsController } from './groups.controller.js';
import { MosquittoFilesController } from './mosquitto-files.controller.js';
import { MosquittoFilesService } from './mosquitto-files.service.js';

/**
 * Devices, groups and their MQTT credentials. The broker module uses DeviceCredentials,
 * DeviceStateWriter and FleetEvents; the fleet knows nothing of MQTT sessions. DeviceCredentials
 * is also auth's DEVICE_AUTHENTICATOR, so HTTP calls made with a device credential share the
 * MQTT check and its cache.
 */
@Module({
  controllers: [GroupsController, DevicesController, MosquittoFilesController],
  providers: [
    FleetService,
    GroupsService,
    FleetEvents,
    FleetDeleteHooks,
    DeviceCredentials,
    DeviceStateWriter,
    MosquittoFilesService,
    { provide: DEVICE_AUTHENTICATOR, useExisting: DeviceCredentials },
  ],
  exports: [
    FleetService,
    GroupsService,
    FleetEvents,
    FleetDeleteHooks,
    DeviceCredentials,
    DeviceStateWriter,
    DEVICE_AUTHENTICATOR,
  ],
})
export class FleetModule {}
