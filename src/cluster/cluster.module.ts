import { Global, Module } from '@nestjs/common';
import { ClusterBus } from './cluster-bus.js';

/** The events hubs of a cluster send each other (global: fleet and auth publish through it). */
@Global()
@Module({ providers: [ClusterBus], exports: [ClusterBus] })
export class ClusterModule {}
