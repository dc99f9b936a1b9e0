// test-gi.js: libvcmount through GObject-Introspection in GJS (TAP output):
// the namespace loads, its classes, enums and error domain are there, every
// method of the interface XML (the first argument) has its three forms, and
// a VcMount.Rootfs can be made and read.
imports.gi.versions.VcMount = '1';
const VcMount = imports.gi.VcMount;
const GLib = imports.gi.GLib;
const Gio = imports.gi.Gio;

// MountRootfs -> mount_rootfs, for each method of the XML, and the properties' call.
function methodsOfXml(path) {
    const [, bytes] = GLib.file_get_contents(path);
    const node = Gio.DBusNodeInfo.new_for_xml(new TextDecoder().decode(bytes));
    return node.lookup_interface('org.vc.Mount').methods
        .map(m => m.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase())
        .concat(['get_service_info']);
}
const methods = methodsOfXml(ARGV[0]);

const checks = [
    ['the classes are there', () =>
        ['Client', 'RootfsSet', 'Rootfs', 'DeviceInfo', 'FsInfo', 'PathInfo', 'ServiceInfo',
         'MountInfo', 'MountOptions']
            .every(n => typeof VcMount[n] === 'function')],
    [`every method of the XML (${methods.length}) has its async, finish and sync forms`, () =>
        methods.length > 12 && methods.every(m => ['', '_finish', '_sync'].every(s => {
            const ok = typeof VcMount.Client.prototype[m + s] === 'function';
            if (!ok)
                print(`# no VcMount.Client.${m}${s}`);
            return ok;
        }))],
    ['a rootfs is made and read', () => {
        const r = VcMount.Rootfs.new('sb', 'c1', '/run/vc/shared/sb/c1/rootfs', true);
        return r.sandbox_id === 'sb' && r.container_id === 'c1' &&
            r.get_mount_point() === '/run/vc/shared/sb/c1/rootfs' && r.read_only === true;
    }],
    ['mount options are made and set', () => {
        const o = VcMount.MountOptions.new();
        o.set_read_only(true);
        o.set_propagation('slave');
        o.add_uid_map(0, 100000, 65536);
        let refused = false;
        try {
            o.set_idmap('u:0:1');
        } catch (e) {
            refused = e.matches(imports.gi.Gio.IOErrorEnum, imports.gi.Gio.IOErrorEnum.INVALID_ARGUMENT);
        }
        return o.set_idmap('b:0:100000:65536') && refused;
    }],
    ['mount info is read from a dictionary', () => {
        const info = VcMount.MountInfo.new_from_variant(new GLib.Variant('a{sv}', {
            'mount-point': new GLib.Variant('s', '/run/vc/shared/sb/c/rootfs'),
            'mount-id': new GLib.Variant('t', 4294967297),
            'options': new GLib.Variant('a{sv}', {'read-only': new GLib.Variant('b', true)}),
        }));
        return info.get_mount_point() === '/run/vc/shared/sb/c/rootfs' &&
            info.get_mount_id() === 4294967297 && info.get_kind() === '' &&
            info.get_options().lookup_value('read-only', null).get_boolean() === true;
    }],
    ['the error domain has LimitsExceeded', () =>
        VcMount.ClientError.LIMITS_EXCEEDED === 6 &&
        GLib.quark_to_string(VcMount.ClientError.quark()) === 'vcm-client-error-quark'],
    ['the call flags', () =>
        VcMount.CallFlags.ALLOW_INTERACTIVE_AUTHORIZATION === 1],
    ['the client has mount-added and mount-removed, with the mount info', () => {
        const GObject = imports.gi.GObject;
        const added = GObject.signal_query(GObject.signal_lookup('mount-added', VcMount.Client.$gtype));
        const removed = GObject.signal_query(GObject.signal_lookup('mount-removed', VcMount.Client.$gtype));
        return added.n_params === 2 && added.param_types[1] === VcMount.MountInfo.$gtype &&
            removed.n_params === 3 && removed.param_types[2] === GObject.type_from_name('GStrv');
    }],
    ['the rootfs set is a list model of rootfs', () =>
        VcMount.RootfsSet.$gtype.name === 'VcmRootfsSet' &&
        imports.gi.GObject.type_is_a(VcMount.RootfsSet.$gtype, imports.gi.Gio.ListModel.$gtype)],
];

print(`1..${checks.length}`);
let failed = 0;
checks.forEach(([what, check], i) => {
    let ok = false;
    try {
        ok = check();
    } catch (e) {
        print(`# ${e}`);
    }
    if (!ok)
        failed++;
    print(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${what}`);
});
if (failed)
    imports.system.exit(1);
