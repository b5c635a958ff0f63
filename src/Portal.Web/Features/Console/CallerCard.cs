using System.Globalization;
using Portal.Idp;
using Portal.Web.Verification;

namespace Portal.Web.Features.Console;

/// <summary>
/// How the caller card words what the IdP says about a caller: moments as a UTC time and how long ago, and which
/// facts deserve a question before the agent goes on. The card is read live for the screen and never stored
/// (docs/security-decisions.md "Caller context, live and never stored").
/// </summary>
public static class CallerCard
{
    /// <summary>A factor enrolled this recently is flagged: an attacker who got in often enrols their own device first.</summary>
    public static readonly TimeSpan RecentEnrolment = TimeSpan.FromDays(7);

    /// <summary>"2026-11-30 21:15 UTC (35 minutes ago)".</summary>
    public static string When(DateTimeOffset at, DateTimeOffset now) =>
        at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC (" + Ago(at, now) + ")";

    /// <summary>How long ago, in the largest whole unit: "just now", "1 minute ago", "3 hours ago", "400 days ago".</summary>
    public static string Ago(DateTimeOffset at, DateTimeOffset now)
    {
        var elapsed = now - at;
        if (elapsed < TimeSpan.FromMinutes(1))
        {
            return elapsed < TimeSpan.Zero ? "in the future" : "just now";
        }

        var (count, unit) = elapsed < TimeSpan.FromHours(1) ? ((int)elapsed.TotalMinutes, "minute")
            : elapsed < TimeSpan.FromDays(1) ? ((int)elapsed.TotalHours, "hour")
            : ((int)elapsed.TotalDays, "day");
        return count.ToString(CultureInfo.InvariantCulture) + " " + unit + (count == 1 ? "" : "s") + " ago";
    }

    /// <summary>The status line: "locked out since 2026-11-30 21:15 UTC (35 minutes ago)", or the status alone.</summary>
    public static string Status(CallerStatus status, DateTimeOffset? since, DateTimeOffset now) =>
        status != CallerStatus.Active && since is { } changed
            ? StatusLabels.Name(status) + " since " + When(changed, now)
            : StatusLabels.Name(status);

    public static bool RecentlyEnrolled(CallerFactor factor, DateTimeOffset now) =>
        factor.EnrolledAt is { } enrolled && now - enrolled < RecentEnrolment;
}
