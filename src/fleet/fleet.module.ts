import { Module } from '@nestjs/common';
import { DeviceCredentials } from './device-credentials.js';
import { DeviceStateWriter } from './device-state-writer.js';
import { DevicesController } from './devices.controller.js';
import { FleetEvents } from './fleet-events.js';
import { FleetService } from './fleet.service.js';
import { GroupsController } from './groups.controller.js';
import { MosquittoFilesController } from './mosquitto-files.controller.js';
import { MosquittoFilesService } from './mosquitto-files.service.js';

/**
 * Devices, groups and their MQTT credentials. The broker module uses DeviceCredentials,
 * DeviceStateWriter and FleetEvents; the fleet knows nothing of MQTT sessions.
 */
@Module({
  controllers: [GroupsController, DevicesController, MosquittoFilesController],
  providers: [
    FleetService,
    FleetEvents,
    DeviceCredentials,
    DeviceStateWriter,
    MosquittoFilesService,
  ],
  exports: [FleetService, FleetEvents, DeviceCredentials, DeviceStateWriter],
})
export class FleetModule {}
