namespace Portal.Web.Features.Actions;

/// <summary>A one-time secret as the result page shows it: the value, what it is, and until when it works.</summary>
public sealed record SecretView(string Label, string Value, DateTimeOffset? ExpiresAt)
{
    /// <summary>A link is never read aloud (copied instead); everything else is grouped and can be spelt out.</summary>
    public bool IsLink => SecretReading.IsLink(Value);

    public IReadOnlyList<string> Groups => SecretReading.Groups(Value);

    public override string ToString() => $"SecretView {{ Label = {Label}, Value = [redacted] }}";
}

/// <summary>
/// How an agent reads a one-time secret to a caller over the phone (docs/security-decisions.md, "Secrets read
/// aloud"): in blocks of four, and spelt out character by character with the NATO alphabet, saying the case of
/// every letter, so a caller never has to guess between "B" and "b", "O" and "0", "l" and "1".
/// </summary>
public static class SecretReading
{
    public const int GroupSize = 4;

    private static readonly string[] Nato =
    [
        "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima", "Mike",
        "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
    ];

    private static readonly string[] Digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    public static bool IsLink(string value) =>
        value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<string> Groups(string value) =>
        [.. Enumerable.Range(0, (value.Length + GroupSize - 1) / GroupSize).Select(i => value.Substring(i * GroupSize, Math.Min(GroupSize, value.Length - (i * GroupSize))))];

    /// <summary>One character as it is said: "capital Bravo", "small bravo", "seven", "dash".</summary>
    public static string Spoken(char c) => c switch
    {
        >= 'A' and <= 'Z' => "capital " + Nato[c - 'A'],
        >= 'a' and <= 'z' => "small " + Nato[c - 'a'].ToLowerInvariant(),
        >= '0' and <= '9' => Digits[c - '0'],
        '-' => "dash",
        '_' => "underscore",
        '.' => "dot",
        '!' => "exclamation mark",
        '@' => "at sign",
        '#' => "hash",
        '$' => "dollar sign",
        '%' => "percent sign",
        '&' => "ampersand",
        '*' => "asterisk",
        '+' => "plus",
        '=' => "equals",
        '?' => "question mark",
        '/' => "slash",
        ':' => "colon",
        ' ' => "space",
        _ => "the symbol " + c,
    };
}
