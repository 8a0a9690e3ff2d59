import { Module } from '@nestjs/common';
import { InferenceModule } from '../inference/inference.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({ imports: [InferenceModule], controllers: [HealthController], providers: [HealthService], exports: [HealthService] })
export class HealthModule {}
