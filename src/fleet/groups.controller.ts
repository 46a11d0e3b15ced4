import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import {
  CreateGroupDto,
  GroupDto,
  GroupListDto,
  ListGroupsQueryDto,
  SetMaintenanceWindowsDto,
} from './dto/group.dto.js';
import { FleetIdPipe } from './fleet-id.pipe.js';
import { GroupsService } from './groups.service.js';

const groupName = new FleetIdPipe('group name');

@ApiTags('fleet')
@Controller('api/v1/groups')
export class GroupsController {
  constructor(private readonly fleet: GroupsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Create a device group in an environment' })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiErrors(400, 409)
  async create(
    @Body() body: CreateGroupDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GroupDto> {
    return GroupDto.from(await this.fleet.createGroup(body, principal));
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List device groups with their device counts, by name' })
  @ApiOkResponse({ type: GroupListDto })
  @ApiErrors(400)
  async list(@Query() query: ListGroupsQueryDto): Promise<GroupListDto> {
    const groups = await this.fleet.listGroups({ environment: query.environment });
    return { items: groups.map((group) => GroupDto.from(group)), total: groups.length };
  }

  @Get(':name')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Get one device group' })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors(400, 404)
  async get(@Param('name', groupName) name: string): Promise<GroupDto> {
    return GroupDto.from(await this.fleet.getGroup(name));
  }

  @Put(':name/maintenance-windows')
  @RequireRole('operator')
  @ApiOperation({
    summary: "Set the group's maintenance windows",
    description:
      'Outside every window of a group, a deployment notifies none of its devices: it waits (its start, cutover or next canary step) and says until when. A rollback is never held. `[]` removes the windows.',
  })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors(400, 404)
  async setWindows(
    @Param('name', groupName) name: string,
    @Body() body: SetMaintenanceWindowsDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GroupDto> {
    return GroupDto.from(await this.fleet.setMaintenanceWindows(name, body.windows, principal));
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({
    summary: 'Delete a device group',
    description:
      'Its devices stay registered without a group; the broker ends their sessions and refuses them until they are moved to another group.',
  })
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async remove(
    @Param('name', groupName) name: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.fleet.deleteGroup(name, principal);
  }
}
