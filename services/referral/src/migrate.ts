import { runMigrationsCli } from '@sonet/service-kit';
import { readReferralConfig } from './config';
import { referralOrmOptions } from './orm';

void runMigrationsCli('referral', () => referralOrmOptions(readReferralConfig()));
