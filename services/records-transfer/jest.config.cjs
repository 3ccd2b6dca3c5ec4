module.exports = { ...require('../../jest.preset.cjs'), displayName: 'records-transfer', rootDir: __dirname };
