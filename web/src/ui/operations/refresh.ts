/** How often the operations views poll: their figures change by the second when a stage fails. */
export const REFRESH_MS = 5000;
