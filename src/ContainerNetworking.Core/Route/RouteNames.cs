namespace ContainerNetworking.Route;

/// <summary>Names of rtnetlink message types, for error messages ("RTM_NEWLINK: File exists (EEXIST)").</summary>
public static class RouteNames
{
    public static string Describe(ushort type) => type switch
    {
        16 => "RTM_NEWLINK", 17 => "RTM_DELLINK", 18 => "RTM_GETLINK", 19 => "RTM_SETLINK",
        20 => "RTM_NEWADDR", 21 => "RTM_DELADDR", 22 => "RTM_GETADDR",
        24 => "RTM_NEWROUTE", 25 => "RTM_DELROUTE", 26 => "RTM_GETROUTE",
        28 => "RTM_NEWNEIGH", 29 => "RTM_DELNEIGH", 30 => "RTM_GETNEIGH",
        32 => "RTM_NEWRULE", 33 => "RTM_DELRULE", 34 => "RTM_GETRULE",
        80 => "RTM_NEWNETCONF", 82 => "RTM_GETNETCONF",
        88 => "RTM_NEWNSID", 89 => "RTM_DELNSID", 90 => "RTM_GETNSID",
        _ => "RTM type " + type,
    };
}
