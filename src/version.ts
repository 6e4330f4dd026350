/** The tool version recorded in certificates (a test keeps it equal to package.json's). */
export const TOOL = { name: 'irs-edge', version: '0.1.0' } as const;
