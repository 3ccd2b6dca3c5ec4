import { Module } from '@nestjs/common';
import { DirectoryController } from './directory.http.controller';
import { DirectoryService } from './directory.service';

/** The directory of organisations and clinical teams: its HTTP API, and DirectoryService for the rest of the service. */
@Module({
  controllers: [DirectoryController],
  providers: [DirectoryService],
  exports: [DirectoryService],
})
export class DirectoryModule {}
