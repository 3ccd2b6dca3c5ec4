module.exports = { ...require('../../jest.preset.cjs'), displayName: 'referral', rootDir: __dirname };
