import { ApiProperty } from '@nestjs/swagger';

export class RemovalCountsView {
  @ApiProperty({ description: 'Work-item inputs emptied' })
  inputs!: number;

  @ApiProperty({ description: 'AI decisions whose free text (raw answer, fields not compared) was removed' })
  aiOutputs!: number;

  @ApiProperty({ description: "People's decisions whose free text (fields not compared) was removed" })
  humanDecisions!: number;

  @ApiProperty({ description: 'Routing events (kept in the outbox) whose decision copy lost its free text' })
  routingEvents!: number;
}

export class AlreadyRemovedView {
  @ApiProperty()
  inputs!: number;

  @ApiProperty()
  aiOutputs!: number;

  @ApiProperty()
  humanDecisions!: number;
}

export class ErasureResponse {
  @ApiProperty()
  itemId!: string;

  @ApiProperty({ type: [String], description: 'Every workflow that holds the item' })
  workflows!: string[];

  @ApiProperty({ type: RemovalCountsView, description: 'What this request removed (all 0 when asked again)' })
  removed!: RemovalCountsView;

  @ApiProperty({ type: AlreadyRemovedView, description: 'Rows whose personal content was already gone (an earlier erasure, or the retention)' })
  alreadyRemoved!: AlreadyRemovedView;

  @ApiProperty({ description: 'AI jobs of the item that had not run yet and never will' })
  jobsSkipped!: number;

  @ApiProperty({ description: 'The audit entry of this request' })
  auditId!: string;
}
