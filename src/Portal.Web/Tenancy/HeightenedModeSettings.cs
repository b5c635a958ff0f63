namespace Portal.Web.Tenancy;

/// <summary>
/// A tenant's heightened-threat mode (docs/tenancy.md, "Heightened-threat mode"): switched on and off by a tenant admin
/// in the console, with a reason from <see cref="Reasons"/>, never from configuration. Stored with the tenant's policy;
/// holds no PII (the reason is a code, not free text).
/// </summary>
public sealed class HeightenedModeSettings
{
    public bool On { get; set; }

    /// <summary>When the mode was last switched on or off (null before the first switch).</summary>
    public DateTimeOffset? Since { get; set; }

    /// <summary>The reason given with the last switch: one of <see cref="Reasons"/>.</summary>
    public string Reason { get; set; } = "";

    /// <summary>The reasons an admin can give, with their words in the console; a switch with any other is refused.</summary>
    public static IReadOnlyList<(string Code, string Words)> Reasons { get; } =
    [
        ("active_attack", "Our help desk or a peer is being targeted now"),
        ("threat_intelligence", "Threat intelligence or an advisory names our sector"),
        ("incident_response", "An incident is being investigated"),
        ("exercise", "Exercise or test"),
        ("threat_over", "The threat is over"),
    ];

    public static bool IsReason(string? code) => Reasons.Any(r => r.Code == code);

    public static string WordsOf(string? code) => Reasons.FirstOrDefault(r => r.Code == code).Words ?? code ?? "";
}
