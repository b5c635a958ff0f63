using System.Globalization;
using System.Security.Cryptography;
using Portal.Audit;

namespace Portal.Bench;

/// <summary>
/// The values every benchmark works on. They are shaped like real helpdesk traffic (an Okta-style user
/// id, a corporate e-mail, a public IPv4 address, a browser User-Agent) but name no real person.
/// </summary>
internal static class Samples
{
    public const string Tenant = "acme";
    public const string AgentLogin = "agent.smith@helpdesk.example";
    public const string CallerLogin = "john.doe@example.com";
    public const string CallerId = "00u9zyxwvutsrq1234";
    public const string ClientAddress = "203.0.113.77";
    public const string ClientAddressV6 = "2001:db8:1234:5678:9abc:def0:1234:5678";
    public const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

    public static readonly DateTimeOffset Start = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh random pseudonymisation key, base64 of 32 bytes, as the portal's options require.</summary>
    public static string NewPseudonymisationKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the web layer hands the trail for a finished push verification.</summary>
    public static AuditEntry Entry() => new()
    {
        TenantId = Tenant,
        Action = "verification.push.result",
        Outcome = AuditOutcome.Succeeded,
        AgentSubjectId = "00uagent0001",
        AgentLogin = AgentLogin,
        CallerId = CallerId,
        CallerLogin = CallerLogin,
        Method = "okta.push",
        TicketRef = "INC-104233",
        RequestId = "0HN8QK2V5M3L1:00000007",
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        ClientAddress = ClientAddress,
        UserAgent = UserAgent,
    };

    /// <summary>
    /// <paramref name="count"/> stored-shape audit records, newest first (the order the trail pages them in),
    /// with the field fill of real records: masked logins, a 64-hex-digit pseudonym, a truncated network.
    /// </summary>
    public static AuditRecord[] Records(int count)
    {
        var records = new AuditRecord[count];
        for (var i = 0; i < count; i++)
        {
            var at = Start.AddSeconds(-i);
            records[i] = new AuditRecord
            {
                Id = at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + i.ToString("x16", CultureInfo.InvariantCulture),
                TenantId = Tenant,
                At = at,
                Action = (i % 3) switch
                {
                    0 => "verification.push.result",
                    1 => "action.password_reset",
                    _ => "verification.totp.result",
                },
                Outcome = i % 10 == 0 ? AuditOutcome.Failed : AuditOutcome.Succeeded,
                Reason = i % 10 == 0 ? "wrong_number" : null,
                Agent = new AuditAgent("00uagent" + (i % 50).ToString("D4", CultureInfo.InvariantCulture), "a***@h***.example"),
                Caller = new AuditCaller(Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))), "j***@e***.com"),
                Method = "okta.push",
                TicketRef = "INC-" + (100_000 + i).ToString(CultureInfo.InvariantCulture),
                RequestId = "0HN8QK2V5M3L1:" + i.ToString("x8", CultureInfo.InvariantCulture),
                TraceId = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(-i)))[..32],
                ClientNet = "203.0.113.0/24",
                UaFamily = "Firefox",
                CompletedAt = i % 3 == 1 ? at.AddSeconds(2) : null,
                ExpireAt = at.AddDays(30),
            };
        }

        return records;
    }
}
