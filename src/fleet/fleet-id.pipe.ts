import { Injectable, type PipeTransform } from '@nestjs/common';
import { validationFailed } from '../common/domain-error.js';
import { checkFleetId } from './domain/fleet-rules.js';

/** Refuses a path id that can never exist (upper case, '/', wildcards) with a 400 that says why. */
@Injectable()
export class FleetIdPipe implements PipeTransform<string, string> {
  constructor(private readonly field: string) {}

  transform(value: string): string {
    const problem = checkFleetId(this.field, value);
    if (problem) throw validationFailed(problem);
    return value;
  }
}
