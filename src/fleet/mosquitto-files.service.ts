import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { validationFailed } from '../common/domain-error.js';
import { MQTT_USER_RE, renderAclFile } from './domain/mosquitto-acl.js';
import { renderPasswordFile } from './domain/mosquitto-passwd.js';

/**
 * The fleet as Mosquitto configuration, for operators who run an external Mosquitto: a password
 * file made from the stored `$7$` hashes (the hub never keeps a device secret) and an ACL file with
 * the embedded broker's rules. Devices without a group are left out of both: the embedded broker
 * refuses them too.
 */
@Injectable()
export class MosquittoFilesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async passwordFile(principal: Principal): Promise<string> {
    const rows: { id: string; mosquitto_hash: string }[] = await this.dataSource.query(
      'SELECT id, mosquitto_hash FROM devices WHERE group_id IS NOT NULL ORDER BY id',
    );
    // Hashes of every device leave the hub here: worth a line in the audit log.
    await this.audit.record(actorOf(principal), 'broker.export_passwd', 'broker', null, {
      devices: rows.length,
    });
    return renderPasswordFile(
      rows.map((row) => ({ username: row.id, mosquittoHash: row.mosquitto_hash })),
    );
  }

  async aclFile(hubUser: string): Promise<string> {
    if (!MQTT_USER_RE.test(hubUser)) {
      throw validationFailed(
        `hub_user "${hubUser}" must be 1-128 characters of letters, digits, ".", "_", "@" and "-"`,
      );
    }
    const rows: { id: string; group_name: string }[] = await this.dataSource.query(
      `SELECT d.id, g.name AS group_name
         FROM devices d JOIN device_groups g ON g.id = d.group_id
        ORDER BY d.id`,
    );
    return renderAclFile(
      rows.map((row) => ({ id: row.id, group: row.group_name })),
      hubUser,
    );
  }
}
