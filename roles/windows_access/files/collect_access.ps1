# windows_access collector: one JSON object for runner/evaluators/windows_access.py (schema 1).
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
# Each probe runs on its own: one that fails is {available: false, reason} and the others still report.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

function Get-RegistryValues([string]$Path) {
    # the values of one registry key as name -> value; $null when the key does not exist
    if (-not (Test-Path -LiteralPath $Path)) { return $null }
    $item = Get-Item -LiteralPath $Path
    $values = @{}
    foreach ($name in $item.GetValueNames()) {
        if ($name) { $values[$name] = $item.GetValue($name) }
    }
    return $values
}

function Get-Value($Values, [string]$Name) {
    if ($null -eq $Values -or -not $Values.ContainsKey($Name)) { return $null }
    return $Values[$Name]
}

function ConvertFrom-AdsPath([string]$Path) {
    # WinNT://ACME/jdoe -> ACME\jdoe; WinNT://ACME/SRV01/Administrator (a local account of a domain member)
    # -> SRV01\Administrator; WinNT://S-1-5-21-...-1105 (an orphaned SID) -> the SID
    $parts = @(($Path -replace '^WinNT://', '').Trim('/') -split '/')
    if ($parts.Count -ge 2) { return $parts[-2] + '\' + $parts[-1] }
    return $parts[0]
}

function Get-AdsiProperty($Object, [string]$Name) {
    return $Object.GetType().InvokeMember($Name, 'GetProperty', $null, $Object, $null)
}

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_access'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

try {
    $cs = Get-CimInstance -ClassName Win32_ComputerSystem
    $result.computer = [ordered]@{
        available    = $true
        # 0/1 workstation, 2/3 server, 4/5 domain controller: a number on every shell (UInt16, not an enum)
        DomainRole   = [int]$cs.DomainRole
        PartOfDomain = [bool]$cs.PartOfDomain
        Domain       = [string]$cs.Domain
    }
} catch {
    $result.computer = [ordered]@{ available = $false; reason = "Win32_ComputerSystem query failed: $($_.Exception.Message)" }
}

# local groups by their well-known SIDs, never by name (the names are localised: Administrateurs, Administradores)
$groupSids = @{ administrators = 'S-1-5-32-544'; remote_desktop_users = 'S-1-5-32-555' }
$groups = [ordered]@{}
foreach ($key in @('administrators', 'remote_desktop_users')) {
    $probe = [ordered]@{
        available       = $false
        reason          = ''
        sid             = $groupSids[$key]
        name            = $null
        method          = $null
        fallback_reason = $null
        members         = @()
    }
    try {
        $sid = New-Object System.Security.Principal.SecurityIdentifier($groupSids[$key])
        $probe.name = ($sid.Translate([System.Security.Principal.NTAccount]).Value -split '\\')[-1]
        try {
            $members = @(Get-LocalGroupMember -SID $sid | ForEach-Object {
                    [pscustomobject]@{
                        Name            = [string]$_.Name
                        SID             = [string]$_.SID.Value
                        ObjectClass     = [string]$_.ObjectClass
                        PrincipalSource = [string]$_.PrincipalSource
                    }
                })
            $probe.method = 'Get-LocalGroupMember'
        } catch {
            # Get-LocalGroupMember throws on an orphaned SID (a deleted domain account) and on some domain
            # members it cannot resolve; the WinNT provider lists them all, orphans as their SID
            $probe.fallback_reason = "Get-LocalGroupMember failed: $($_.Exception.Message)"
            $adsi = [ADSI]"WinNT://$env:COMPUTERNAME/$($probe.name),group"
            $members = @($adsi.psbase.Invoke('Members') | ForEach-Object {
                    $bytes = Get-AdsiProperty $_ 'objectSid'
                    $memberSid = (New-Object System.Security.Principal.SecurityIdentifier($bytes, 0)).Value
                    [pscustomobject]@{
                        Name            = ConvertFrom-AdsPath ([string](Get-AdsiProperty $_ 'ADsPath'))
                        SID             = $memberSid
                        ObjectClass     = [string](Get-AdsiProperty $_ 'Class')
                        PrincipalSource = $null
                    }
                })
            $probe.method = 'ADSI'
        }
        $probe.members = $members
        $probe.available = $true
    } catch {
        $probe.reason = "reading the members of $($groupSids[$key]) failed: $($_.Exception.Message)"
    }
    $groups[$key] = $probe
}
$result.groups = $groups

try {
    try {
        $users = @(Get-LocalUser | ForEach-Object {
                [pscustomobject]@{
                    Name            = [string]$_.Name
                    SID             = [string]$_.SID.Value
                    Enabled         = [bool]$_.Enabled
                    LastLogon       = ConvertTo-IsoUtc $_.LastLogon
                    PasswordLastSet = ConvertTo-IsoUtc $_.PasswordLastSet
                    PrincipalSource = [string]$_.PrincipalSource
                }
            })
        $result.users = [ordered]@{ available = $true; method = 'Get-LocalUser'; fallback_reason = $null; items = $users }
    } catch {
        # Get-LocalUser is missing in 32-bit PowerShell on 64-bit Windows and fails on some builds: WinNT provider
        $fallback = "Get-LocalUser failed: $($_.Exception.Message)"
        $computer = [ADSI]"WinNT://$env:COMPUTERNAME,computer"
        $users = @($computer.psbase.Children | Where-Object { $_.SchemaClassName -eq 'user' } | ForEach-Object {
                $flags = [int]$_.UserFlags.Value
                $lastLogin = $null
                try { $lastLogin = [DateTime]$_.LastLogin.Value } catch { $lastLogin = $null }
                $passwordSet = [DateTime]::Now.AddSeconds(-[double]$_.PasswordAge.Value)
                [pscustomobject]@{
                    Name            = [string]$_.Name.Value
                    SID             = (New-Object System.Security.Principal.SecurityIdentifier($_.objectSid.Value, 0)).Value
                    Enabled         = -not ($flags -band 2)
                    LastLogon       = ConvertTo-IsoUtc $lastLogin
                    PasswordLastSet = ConvertTo-IsoUtc $passwordSet
                    PrincipalSource = $null
                }
            })
        $result.users = [ordered]@{ available = $true; method = 'ADSI'; fallback_reason = $fallback; items = $users }
    }
} catch {
    $result.users = [ordered]@{ available = $false; reason = "reading the local accounts failed: $($_.Exception.Message)" }
}

try {
    # Windows LAPS uses the first policy root holding at least one value (CSP, then Group Policy, then the
    # local configuration); legacy Microsoft LAPS has its own key and client-side extension
    $roots = @{
        csp          = 'HKLM:\SOFTWARE\Microsoft\Policies\LAPS'
        group_policy = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\LAPS'
        local_config = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\LAPS\Config'
    }
    $source = $null
    $laps = $null
    foreach ($root in @('csp', 'group_policy', 'local_config')) {
        $found = Get-RegistryValues $roots[$root]
        if ($null -ne $found -and $found.Count -gt 0) {
            $source = $root
            $laps = $found
            break
        }
    }
    $legacy = Get-RegistryValues 'HKLM:\SOFTWARE\Policies\Microsoft Services\AdmPwd'
    $cse = Get-RegistryValues 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\GPExtensions\{D76B9641-3288-4f75-942D-087DE603E3EA}'
    $result.laps = [ordered]@{
        available            = $true
        # the Windows LAPS module ships with the feature; only its presence is read (Get-LapsDiagnostics
        # itself writes a zip and forces a policy cycle, so it is never run here)
        windows_laps_cmdlets = $null -ne (Get-Command -Name 'Get-LapsDiagnostics' -ErrorAction SilentlyContinue)
        windows              = [ordered]@{
            source                                  = $source
            BackupDirectory                         = Get-Value $laps 'BackupDirectory'
            PasswordAgeDays                         = Get-Value $laps 'PasswordAgeDays'
            AdministratorAccountName                = Get-Value $laps 'AdministratorAccountName'
            AutomaticAccountManagementEnabled       = Get-Value $laps 'AutomaticAccountManagementEnabled'
            AutomaticAccountManagementTarget        = Get-Value $laps 'AutomaticAccountManagementTarget'
            AutomaticAccountManagementNameOrPrefix  = Get-Value $laps 'AutomaticAccountManagementNameOrPrefix'
            AutomaticAccountManagementRandomizeName = Get-Value $laps 'AutomaticAccountManagementRandomizeName'
        }
        legacy               = [ordered]@{
            policy_present   = $null -ne $legacy
            cse_installed    = $null -ne $cse
            AdmPwdEnabled    = Get-Value $legacy 'AdmPwdEnabled'
            PasswordAgeDays  = Get-Value $legacy 'PasswordAgeDays'
            AdminAccountName = Get-Value $legacy 'AdminAccountName'
        }
    }
} catch {
    $result.laps = [ordered]@{ available = $false; reason = "reading the LAPS policy keys failed: $($_.Exception.Message)" }
}

try {
    $system = Get-RegistryValues 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System'
    $result.uac = [ordered]@{
        available                     = $true
        LocalAccountTokenFilterPolicy = Get-Value $system 'LocalAccountTokenFilterPolicy'
    }
} catch {
    $result.uac = [ordered]@{ available = $false; reason = "reading the UAC policy key failed: $($_.Exception.Message)" }
}

try {
    # the policy key (GPO/Intune) wins over the Terminal Server settings and the RDP-Tcp listener's own values
    $policy = Get-RegistryValues 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
    $server = Get-RegistryValues 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
    $listener = Get-RegistryValues 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
    $result.rdp = [ordered]@{
        available = $true
        policy    = [ordered]@{
            fDenyTSConnections = Get-Value $policy 'fDenyTSConnections'
            UserAuthentication = Get-Value $policy 'UserAuthentication'
            SecurityLayer      = Get-Value $policy 'SecurityLayer'
        }
        server    = [ordered]@{
            fDenyTSConnections = Get-Value $server 'fDenyTSConnections'
        }
        listener  = [ordered]@{
            present            = $null -ne $listener
            UserAuthentication = Get-Value $listener 'UserAuthentication'
            SecurityLayer      = Get-Value $listener 'SecurityLayer'
            PortNumber         = Get-Value $listener 'PortNumber'
        }
    }
} catch {
    $result.rdp = [ordered]@{ available = $false; reason = "reading the Terminal Server registry keys failed: $($_.Exception.Message)" }
}

$result | ConvertTo-Json -Depth 6 -Compress
