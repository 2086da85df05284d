// The throughput rows: which workload, and how the report and the chart name it.
export const THROUGHPUT_MODES = [
  { key: 'pooled', pool: true, message: 'short', title: 'pooled: pool: true, maxConnections: 5, a short text message', label: 'pooled (5 connections)', name: 'Pooled' },
  { key: 'unpooled', pool: false, message: 'short', title: 'unpooled: a connection per message, a short text message', label: 'unpooled', name: 'Unpooled' },
  {
    key: 'transactional',
    pool: true,
    message: 'transactional',
    title: 'pooled, a password-reset e-mail (5.6 KB of HTML and its text part)',
    label: 'pooled, HTML e-mail',
    name: 'Pooled, HTML e-mail',
  },
];

/** The target ratio of resilient() to plain nodemailer: 2% pooled, 5% unpooled. */
export const targetOf = (mode) => (mode.pool ? 0.98 : 0.95);
