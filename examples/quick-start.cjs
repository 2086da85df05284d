const nodemailer = require('nodemailer');
const { resilient, isMailError } = require('nodemailer-resilient');

const transporter = nodemailer.createTransport(
  resilient({
    host: process.env.SMTP_HOST,
    port: process.env.SMTP_PORT,
    auth: { user: process.env.SMTP_USERNAME, pass: process.env.SMTP_PASSWORD },
  }),
  { from: 'My App <no-reply@myapp.example>' },
);

transporter.sendMail({ to: 'user@example.net', subject: 'Welcome', text: 'Hello!' }, (err, info) => {
  if (err) {
    console.error(isMailError(err) ? `${err.name}: ${err.hint}` : err);
    process.exitCode = 1;
    return;
  }
  console.log('sent', info.messageId);
});
