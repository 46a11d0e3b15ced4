import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  CurrentDevice,
  CurrentPrincipal,
  DeviceOnly,
  RequireRole,
  type DevicePrincipal,
  type Principal,
} from '../auth/auth.decorators.js';
import { ApiErrors, ApiErrorsDevicesOnly } from '../common/api-errors.decorator.js';
import {
  CreateDeviceDto,
  DeviceDto,
  DeviceListDto,
  DeviceSelfDto,
  DeviceWithCredentialsDto,
  ListDevicesQueryDto,
  UpdateDeviceDto,
} from './dto/device.dto.js';
import { FleetIdPipe } from './fleet-id.pipe.js';
import { FleetService } from './fleet.service.js';

const deviceId = new FleetIdPipe('device id');

@ApiTags('fleet')
@Controller('api/v1/devices')
export class DevicesController {
  constructor(private readonly fleet: FleetService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Register a device and issue its MQTT credentials',
    description:
      'The password is in this response only; the hub keeps hashes. The device logs in with its id as user name and client id.',
  })
  @ApiCreatedResponse({ type: DeviceWithCredentialsDto })
  @ApiErrors(400, 409)
  async create(
    @Body() body: CreateDeviceDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeviceWithCredentialsDto> {
    return DeviceWithCredentialsDto.issued(await this.fleet.createDevice(body, principal));
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List devices by id, filtered by group, environment or online state' })
  @ApiOkResponse({ type: DeviceListDto })
  @ApiErrors(400)
  async list(@Query() query: ListDevicesQueryDto): Promise<DeviceListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const { items, total } = await this.fleet.listDevices({
      group: query.group,
      environment: query.environment,
      online: query.online === undefined ? undefined : query.online === 'true',
      limit,
      offset,
    });
    return { items: items.map((device) => DeviceDto.from(device)), total, limit, offset };
  }

  // Declared before GET :id so that "me" is never read as a device id (no device may be named so).
  @Get('me')
  @DeviceOnly()
  @ApiOperation({
    summary: 'The calling device: its id, group and environment',
    description:
      'For edge agents, with their device credential (HTTP Basic: device id and secret). An agent calls it on every MQTT (re)connect to learn which group desired topic to subscribe to. ' +
      'Read from the database, not from the credential cache, so a move shows at once. ' +
      'A bearer token gets 403: "me" is a device, and a token is not one; use GET /api/v1/devices/{id}.',
  })
  @ApiOkResponse({ type: DeviceSelfDto })
  @ApiErrorsDevicesOnly()
  async me(@CurrentDevice() device: DevicePrincipal): Promise<DeviceSelfDto> {
    return DeviceSelfDto.from(await this.fleet.getDevice(device.deviceId));
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Get one device with what it last reported' })
  @ApiOkResponse({ type: DeviceDto })
  @ApiErrors(400, 404)
  async get(@Param('id', deviceId) id: string): Promise<DeviceDto> {
    return DeviceDto.from(await this.fleet.getDevice(id));
  }

  @Patch(':id')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Rename a device, replace its labels or move it to another group' })
  @ApiOkResponse({ type: DeviceDto })
  @ApiErrors(400, 404)
  async update(
    @Param('id', deviceId) id: string,
    @Body() body: UpdateDeviceDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeviceDto> {
    return DeviceDto.from(await this.fleet.updateDevice(id, body, principal));
  }

  @Post(':id/rotate-credentials')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Issue a new MQTT password for a device',
    description: 'The old password stops working at once and open sessions are ended.',
  })
  @ApiOkResponse({ type: DeviceWithCredentialsDto })
  @ApiErrors(400, 404)
  async rotate(
    @Param('id', deviceId) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeviceWithCredentialsDto> {
    return DeviceWithCredentialsDto.issued(await this.fleet.rotateCredentials(id, principal));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Delete a device; its MQTT session is ended' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async remove(
    @Param('id', deviceId) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.fleet.deleteDevice(id, principal);
  }
}
