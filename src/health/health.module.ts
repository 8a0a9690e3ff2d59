import { Module } from '@nestjs/common';
import { InferenceModule } from '../inference/inference.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { ProbesController } from './probes.controller';

@Module({ imports: [InferenceModule], controllers: [HealthController, ProbesController], providers: [HealthService], exports: [HealthService] })
export class HealthModule {}
