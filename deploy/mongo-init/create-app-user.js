// Runs once, as the root user, when the data volume is first created:
// the user jtt connects with may read and write its own database, nothing else.
const database = process.env.JTT_DATABASE || "jtt";
const user = process.env.JTT_APP_USER || "jtt";
const password = process.env.JTT_APP_PASSWORD;
if (!password) {
  throw new Error("JTT_APP_PASSWORD is not set: the app user was not created");
}
db.getSiblingDB(database).createUser({
  user: user,
  pwd: password,
  roles: [{ role: "readWrite", db: database }],
});
print(`created ${user} with readWrite on ${database}`);
